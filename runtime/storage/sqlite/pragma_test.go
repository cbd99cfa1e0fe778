package sqlite

import (
	"context"
	"database/sql"
	"testing"
	"time"
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
