package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// pragma reads one PRAGMA on a connection of db.
func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(context.Background(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestConnectionSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts *Options
		sync string
		busy string
	}{
		{"default", nil, "1", "5000"},
		{"full sync", &Options{FullSync: true, BusyTimeout: 1500 * time.Millisecond}, "2", "1500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newStore(t, tc.opts)
			for _, db := range []*sql.DB{s.write, s.read} {
				if got := pragma(t, db, "journal_mode"); got != "wal" {
					t.Errorf("journal_mode = %s, want wal", got)
				}
				if got := pragma(t, db, "synchronous"); got != tc.sync {
					t.Errorf("synchronous = %s, want %s", got, tc.sync)
				}
				if got := pragma(t, db, "busy_timeout"); got != tc.busy {
					t.Errorf("busy_timeout = %s, want %s", got, tc.busy)
				}
				if got := pragma(t, db, "journal_size_limit"); got != strconv.Itoa(walFileLimit) {
					t.Errorf("journal_size_limit = %s, want %d", got, walFileLimit)
				}
				if got := pragma(t, db, "foreign_keys"); got != "1" {
					t.Errorf("foreign_keys = %s, want 1", got)
				}
			}
			if got := pragma(t, s.write, "query_only"); got != "0" {
				t.Errorf("writer query_only = %s", got)
			}
			if got := pragma(t, s.read, "query_only"); got != "1" {
				t.Errorf("reader query_only = %s", got)
			}
			if _, err := s.read.Exec(`DELETE FROM jobgen_jobs`); err == nil {
				t.Error("a reader connection could write")
			}
		})
	}
}

// TestOpenOddPath opens a file whose name holds the characters a SQLite URI
// gives meaning to, and checks the store used exactly that file.
func TestOpenOddPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "a?b#c%20d&e=f.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the given path: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "a?b#c%20d&e=f.db") {
			t.Errorf("stray file %q", e.Name())
		}
	}
	if _, err := Open(":memory:", nil); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("Open(:memory:) = %v, want ErrInvalid", err)
	}
}
