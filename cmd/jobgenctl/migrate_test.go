package main

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/jobgen/jobgen/runtime/storage/postgres"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

type statusJSON struct {
	Backend       string          `json:"backend"`
	Version       int             `json:"version"`
	LatestVersion int             `json:"latest_version"`
	Migrations    []migrationJSON `json:"migrations"`
}

type upJSON struct {
	Backend     string `json:"backend"`
	FromVersion int    `json:"from_version"`
	Version     int    `json:"version"`
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		latest := postgres.SchemaVersion
		if b.name == "sqlite" {
			latest = sqlite.SchemaVersion()
			// Only migrate up creates a SQLite file.
			b.fails(t, 1, "does not exist (jobgenctl migrate up creates it)", "migrate", "status")
			b.fails(t, 1, "does not exist", "jobs", "list")
			if _, err := os.Stat(b.conn[1]); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a failed command created the SQLite file: %v", err)
			}
		} else {
			var st statusJSON
			b.okJSON(t, &st, "migrate", "status")
			if st.Version != 0 || st.LatestVersion != latest || len(st.Migrations) != latest || st.Migrations[0].Applied {
				t.Fatalf("status of a new schema: %+v", st)
			}
			// The operations need the schema first.
			b.fails(t, 1, "is at schema version 0, this jobgenctl needs", "jobs", "list")
		}

		var up upJSON
		b.okJSON(t, &up, "migrate", "up")
		if up != (upJSON{b.name, 0, latest}) {
			t.Fatalf("migrate up: %+v", up)
		}
		var st statusJSON
		b.okJSON(t, &st, "migrate", "status")
		if st.Backend != b.name || st.Version != latest || st.LatestVersion != latest || len(st.Migrations) != latest {
			t.Fatalf("status after up: %+v", st)
		}
		for i, m := range st.Migrations {
			if m.Version != i+1 || !m.Applied || !strings.HasSuffix(m.Name, ".sql") {
				t.Fatalf("migration %d after up: %+v", i, m)
			}
		}
		if out := b.ok(t, "migrate", "status"); !strings.Contains(out, "up to date") || !strings.Contains(out, "APPLIED") {
			t.Fatalf("migrate status:\n%s", out)
		}
		if out := b.ok(t, "migrate", "up"); !strings.Contains(out, "up to date at schema version") {
			t.Fatalf("second migrate up: %s", out)
		}
		b.ok(t, "jobs", "list")

		// A database a newer jobgen migrated is shown, and refused.
		b.setVersion(t, latest+1)
		b.okJSON(t, &st, "migrate", "status")
		if st.Version != latest+1 || st.LatestVersion != latest {
			t.Fatalf("status of a newer database: %+v", st)
		}
		if out := b.ok(t, "migrate", "status"); !strings.Contains(out, "migrated by a newer jobgen") {
			t.Fatalf("migrate status of a newer database:\n%s", out)
		}
		b.fails(t, 1, "migrated by a newer jobgen; this jobgenctl knows up to", "jobs", "list")
		b.fails(t, 1, "newer", "migrate", "up")

		script := b.ok(t, "migrate", "sql")
		if !strings.Contains(script, "jobgen_jobs") {
			t.Fatalf("migrate sql:\n%s", script)
		}
		if b.name == "postgres" {
			if schema := b.conn[3]; !strings.Contains(script, `"`+schema+`"."jobgen_jobs"`) {
				t.Fatalf("migrate sql does not use --schema %s:\n%s", schema, script)
			}
			b.fails(t, 2, "--from is a SQLite option", "migrate", "sql", "--from", "1")
		} else {
			if tail := b.ok(t, "migrate", "sql", "--from", "1"); strings.Contains(tail, "CREATE TABLE jobgen_jobs") {
				t.Fatalf("migrate sql --from 1 creates the jobs table again:\n%s", tail)
			}
			b.fails(t, 2, "want a schema version from 0 to", "migrate", "sql", "--from", "99")
		}
	})
}

// TestMigrateSQLNeedsNoDatabase prints the scripts without any database.
func TestMigrateSQLNeedsNoDatabase(t *testing.T) {
	t.Parallel()
	r := ctl(t, nil, "migrate", "sql", "--dsn", "postgres://nobody@127.0.0.1:1/none", "--schema", "jobs", "--table-prefix", "app_")
	if r.code != 0 || !strings.Contains(r.stdout, `"jobs"."app_jobgen_jobs"`) {
		t.Fatalf("migrate sql for PostgreSQL: %+v", r)
	}
	path := t.TempDir() + "/none.db"
	r = ctl(t, nil, "migrate", "sql", "--dsn", "sqlite:"+path)
	if r.code != 0 || !strings.Contains(r.stdout, "CREATE TABLE jobgen_jobs") {
		t.Fatalf("migrate sql for SQLite: %+v", r)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("migrate sql created the SQLite file: %v", err)
	}
	requireFailure(t, ctl(t, nil, "migrate", "sql", "--dsn", "postgres://x", "--schema", "no-dashes"), 2, "schema", nil)
	requireFailure(t, ctl(t, nil, "migrate", "sql", "--dsn", "jobs.db", "--schema", "jobs"), 2, "PostgreSQL options", nil)
}
