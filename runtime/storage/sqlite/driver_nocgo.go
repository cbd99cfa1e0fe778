//go:build !cgo

package sqlite

import "errors"

// errNoCgo is what Open and OpenDSN return in a build without cgo, where
// go-sqlite3 is a stub that cannot open a database.
var errNoCgo = errors.New("sqlite: this binary was built with CGO_ENABLED=0; the SQLite backend needs cgo and a C compiler " +
	"(use memory or postgres, or build with CGO_ENABLED=1)")

// driverMissing returns errNoCgo: this build has no SQLite driver.
func driverMissing() error { return errNoCgo }

// isLocked reports false: without a driver no statement runs.
func isLocked(error) bool { return false }

// dataError reports false: without a driver no statement runs.
func dataError(error) bool { return false }

// isUnavailable reports false: without a driver no statement runs.
func isUnavailable(error) bool { return false }
