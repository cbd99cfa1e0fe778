package storage

import "errors"

// Sentinel errors every backend returns for the same condition. Backends
// wrap them with context; match them with errors.Is.
var (
	// ErrNotFound: no job has that id.
	ErrNotFound = errors.New("storage: job not found")
	// ErrClosed: the storage was closed.
	ErrClosed = errors.New("storage: closed")
	// ErrBusy: the database stayed locked for longer than the backend's busy
	// timeout. Nothing changed; the call may be retried.
	ErrBusy = errors.New("storage: busy")
	// ErrUnavailable: the database could not be reached, or the connection
	// to it broke during the call (refused, reset, timed out, the server
	// shutting down or starting up, its disk failing). The condition may
	// pass, and a retry may then succeed. A write that failed with it may
	// or may not have taken effect: the connection may have been lost
	// after the commit, before its answer arrived.
	ErrUnavailable = errors.New("storage: unavailable")
	// ErrInvalid: a parameter was out of range; nothing was written.
	ErrInvalid = errors.New("storage: invalid parameter")
	// ErrSchemaTooNew: the database was migrated by a newer version of jobgen.
	ErrSchemaTooNew = errors.New("storage: schema is newer than this version of jobgen")
	// ErrSchemaTooOld: the database was never migrated, or by an older version of jobgen.
	ErrSchemaTooOld = errors.New("storage: schema is older than this version of jobgen")
	// ErrInvalidCursor: a query's cursor was not made by JobQuery for the same order.
	ErrInvalidCursor = errors.New("storage: malformed cursor")
	// ErrUnknownState: a filter names a state that does not exist.
	ErrUnknownState = errors.New("storage: unknown state")
	// ErrEmptyFilter: a bulk operation's filter would match every job and
	// the call did not ask for all of them; nothing was changed.
	ErrEmptyFilter = errors.New("storage: empty filter in a bulk operation")
)
