package storage

import "errors"

// Sentinel errors every backend returns for the same condition. Backends
// wrap them with context; match them with errors.Is.
var (
	// ErrNotFound: no job has that id.
	ErrNotFound = errors.New("storage: job not found")
	// ErrClosed: the storage was closed.
	ErrClosed = errors.New("storage: closed")
	// ErrBusy: the database stayed locked for longer than the backend's busy timeout.
	ErrBusy = errors.New("storage: busy")
	// ErrInvalid: a parameter was out of range; nothing was written.
	ErrInvalid = errors.New("storage: invalid parameter")
	// ErrSchemaTooNew: the database was migrated by a newer version of jobgen.
	ErrSchemaTooNew = errors.New("storage: schema is newer than this version of jobgen")
	// ErrSchemaTooOld: the database was never migrated, or by an older version of jobgen.
	ErrSchemaTooOld = errors.New("storage: schema is older than this version of jobgen")
)
