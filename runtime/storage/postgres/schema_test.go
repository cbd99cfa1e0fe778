package postgres

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
)

// TestConnectChecksSchema: Connect without AutoMigrate (and CheckSchema on
// a store from New) accepts only the schema version this jobgen works
// with. A schema never migrated, or at an older version, is refused with
// an error that says to migrate; a newer one is refused as too new.
func TestConnectChecksSchema(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t) + "&pool_max_conns=2"
	for _, tc := range []struct {
		name string
		// prepare brings the migrated schema of s to the case's state.
		prepare func(t *testing.T, s *Store)
		want    error
		says    string
	}{
		{"Current", func(*testing.T, *Store) {}, nil, ""},
		{"Unmigrated", func(t *testing.T, s *Store) {
			execSQL(t, s, "DROP SCHEMA "+s.n.qschema+" CASCADE")
		}, storage.ErrSchemaTooOld, "is not migrated"},
		{"VersionTableEmpty", func(t *testing.T, s *Store) {
			execSQL(t, s, "DELETE FROM "+s.n.version)
		}, storage.ErrSchemaTooOld, "is not migrated"},
		{"Older", func(t *testing.T, s *Store) {
			execSQL(t, s, fmt.Sprintf("DELETE FROM %s WHERE version = %d", s.n.version, SchemaVersion))
		}, storage.ErrSchemaTooOld, fmt.Sprintf("is at version %d, this jobgen needs version %d", SchemaVersion-1, SchemaVersion)},
		{"Newer", func(t *testing.T, s *Store) {
			execSQL(t, s, fmt.Sprintf("INSERT INTO %s (version, name) VALUES (%d, 'future')", s.n.version, SchemaVersion+1))
		}, storage.ErrSchemaTooNew, fmt.Sprintf("is at version %d, this jobgen knows up to %d", SchemaVersion+1, SchemaVersion)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t)
			tc.prepare(t, s)
			check := func(what string, err error) {
				t.Helper()
				switch {
				case tc.want == nil && err != nil:
					t.Fatalf("%s: %v", what, err)
				case tc.want == nil:
				case !errors.Is(err, tc.want):
					t.Fatalf("%s: %v, want an error matching %v", what, err, tc.want)
				case !strings.Contains(err.Error(), tc.says):
					t.Fatalf("%s: %q does not say %q", what, err, tc.says)
				case tc.want == storage.ErrSchemaTooOld && !strings.Contains(err.Error(), "Migrate"):
					t.Fatalf("%s: %q does not name Migrate", what, err)
				}
			}
			c, err := Connect(t.Context(), dsn, &Options{Schema: s.n.schema})
			if err == nil {
				c.Close()
			}
			check("Connect", err)
			if err != nil {
				t.Log(err)
			}
			check("CheckSchema", s.CheckSchema(t.Context()))
			if tc.want == storage.ErrSchemaTooOld {
				// AutoMigrate brings it up to date.
				c, err := Connect(t.Context(), dsn, &Options{Schema: s.n.schema, AutoMigrate: true})
				if err != nil {
					t.Fatalf("Connect with AutoMigrate: %v", err)
				}
				c.Close()
				if err := s.CheckSchema(t.Context()); err != nil {
					t.Fatalf("CheckSchema after AutoMigrate: %v", err)
				}
			}
		})
	}
}

func execSQL(t *testing.T, s *Store, sql string) {
	t.Helper()
	if _, err := s.pool.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
