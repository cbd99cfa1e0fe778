//go:build cgo

package sqlite

import (
	"errors"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/jobgen/jobgen/runtime/storage"
)

// TestMapErrUnavailable: the errors of a database file or disk that failed
// match storage.ErrUnavailable and keep the driver's error; a lock past the
// busy timeout stays storage.ErrBusy, and a constraint error neither.
func TestMapErrUnavailable(t *testing.T) {
	s := &Store{}
	for _, tc := range []struct {
		code              sqlite3.ErrNo
		unavailable, busy bool
	}{
		{sqlite3.ErrIoErr, true, false},
		{sqlite3.ErrCantOpen, true, false},
		{sqlite3.ErrFull, true, false},
		{sqlite3.ErrBusy, false, true},
		{sqlite3.ErrConstraint, false, false},
	} {
		cause := sqlite3.Error{Code: tc.code}
		err := s.mapErr("finish", cause)
		if got := errors.Is(err, storage.ErrUnavailable); got != tc.unavailable {
			t.Errorf("code %d: %v matches ErrUnavailable: %v, want %v", tc.code, err, got, tc.unavailable)
		}
		if got := errors.Is(err, storage.ErrBusy); got != tc.busy {
			t.Errorf("code %d: %v matches ErrBusy: %v, want %v", tc.code, err, got, tc.busy)
		}
		var se sqlite3.Error
		if !errors.As(err, &se) || se.Code != tc.code {
			t.Errorf("code %d: %v does not carry the driver's error", tc.code, err)
		}
	}
}
