//go:build cgo

package sqlite

import (
	"database/sql"
	"errors"
	"strconv"

	"github.com/mattn/go-sqlite3"
)

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA journal_size_limit = "+strconv.Itoa(walFileLimit), nil)
			return err
		},
	})
}

// driverMissing returns nil: this build has the SQLite driver.
func driverMissing() error { return nil }

// isLocked reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isLocked(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// dataError reports errors by which SQLite refuses a value a statement
// carries (too big, of the wrong type, against a constraint): it undoes
// that statement alone, and the transaction goes on.
func dataError(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrTooBig, sqlite3.ErrConstraint, sqlite3.ErrMismatch:
		return true
	}
	return false
}

// isUnavailable reports whether err is SQLite's SQLITE_IOERR, SQLITE_CANTOPEN
// or SQLITE_FULL: the database file or its disk failed (a network
// filesystem gone, a disk full), which may pass.
func isUnavailable(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrIoErr || se.Code == sqlite3.ErrCantOpen || se.Code == sqlite3.ErrFull)
}
