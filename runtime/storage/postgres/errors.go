package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jobgen/jobgen/runtime/storage"
)

// translate turns driver errors into the storage sentinels, wrapping them
// with what the store was doing. It is the only place that does so.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrNotFound)
	case isClosedPool(err):
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrClosed)
	case errors.Is(err, storage.ErrClosed), errors.Is(err, storage.ErrNotFound),
		errors.Is(err, storage.ErrInvalid), errors.Is(err, storage.ErrSchemaTooNew),
		errors.Is(err, storage.ErrUnavailable),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("postgres: %s: %w", op, err)
	case unavailable(err):
		return fmt.Errorf("postgres: %s: %w: %w", op, storage.ErrUnavailable, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "55P03": // lock_not_available
			return fmt.Errorf("postgres: %s: %w: %w", op, storage.ErrBusy, err)
		case "42P01": // undefined_table
			return fmt.Errorf("postgres: %s (is the schema migrated? see Store.Migrate): %w", op, err)
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// isClosedPool recognises the error of a pool that was closed: pgxpool
// reports it with a plain error value of its pool library.
func isClosedPool(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "closed pool" {
			return true
		}
	}
	return false
}

// unavailable reports errors that say the server could not be reached or
// the connection to it broke: a failed connection attempt, a socket error
// or end of stream, a connection pgx has closed, and the server's own
// errors of a lost connection, a shutdown, a start-up or too many clients.
// Errors of the call's own context are left out: they match the context's
// error, as the caller expects. A connection attempt the server refused for
// another reason (a wrong password, a missing database) is not a passing
// condition and is left out too.
func unavailable(err error) bool {
	var (
		pgErr   *pgconn.PgError
		connErr *pgconn.ConnectError
		netErr  net.Error
	)
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up, shutting down, in recovery
			"53300": // too_many_connections
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	return errors.As(err, &connErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// retryable reports errors after which a fenced, idempotent statement may
// simply be run again: deadlocks and serialization failures roll the whole
// statement back.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40P01" || pgErr.Code == "40001"
	}
	return false
}

// isDataError reports errors of SQLSTATE class 22 (data exception): the
// database refused a value the statement carried, say a string it cannot
// store (22021 character_not_in_repertoire, 22P05
// untranslatable_character). Rerunning the same statement fails the same
// way, but the rows that do not carry the value can be written without it.
// Other errors (the connection, the server's availability) say nothing
// about the rows.
func isDataError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22")
}

// maxStatementRetries bounds how often a fenced statement is re-run after a
// deadlock or serialization failure rolled it back.
const maxStatementRetries = 5

// retry runs f again after a deadlock or serialization failure, which roll
// the whole statement back, so a fenced statement can simply be re-run.
func retry(ctx context.Context, f func() error) error {
	var err error
	for range maxStatementRetries {
		if err = f(); err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}
