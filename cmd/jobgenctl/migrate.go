package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/jobgen/jobgen/runtime/storage/postgres"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

var migrateCommands = []*command{
	{
		name:    "migrate up",
		summary: "create or upgrade jobgen's schema to this version's",
		help: `
Applies every migration the database lacks, in one transaction. A SQLite
file that does not exist is created (the only command that creates one).
A database migrated by a newer jobgen is refused. Running it again does
nothing.

Examples:

	jobgenctl migrate up --dsn jobs.db
	JOBGEN_DSN=postgres://jobs@db.internal:5432/app jobgenctl migrate up --schema jobs

JSON: {"backend", "from_version", "version"}.`,
		setup: migrateUp,
	},
	{
		name:    "migrate status",
		summary: "show the database's schema version and the migrations it lacks",
		help: `
Reads the schema version of the database, changing nothing, and lists
every migration this jobgenctl knows with whether it is applied.

Examples:

	jobgenctl migrate status --dsn jobs.db
	jobgenctl migrate status --dsn postgres://jobs@db.internal:5432/app --schema jobs --json

JSON: {"backend", "version", "latest_version", "migrations": [{"version",
"name", "applied"}]}.`,
		setup: migrateStatus,
	},
	{
		name:    "migrate sql",
		summary: "print the migration script, for your own migration tool",
		help: `
Prints the SQL that migrate up would run, without connecting: the DSN only
says which backend (and, for PostgreSQL, --schema and --table-prefix the
names). The PostgreSQL script creates or upgrades any version to this
one, records each version as migrate up does, and may be run again. The
SQLite script brings a database at schema version --from (0: a new file)
to this one and is not idempotent; run it in one transaction.

Examples:

	jobgenctl migrate sql --dsn postgres:// --schema jobs > jobgen.sql
	jobgenctl migrate sql --dsn sqlite:jobs.db --from 1 | sqlite3 jobs.db`,
		setup: migrateSQL,
	},
}

// migrateUp is "migrate up".
func migrateUp(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
	var c connFlags
	var o outFlags
	c.register(fs)
	o.register(fs)
	return onTarget(a, &c, func(ctx context.Context, t *target) error {
		from, err := t.migrate(ctx)
		if err != nil {
			return err
		}
		to := t.latest()
		if o.json {
			return writeJSON(a.stdout, struct {
				Backend     string `json:"backend"`
				FromVersion int    `json:"from_version"`
				Version     int    `json:"version"`
			}{t.backend, from, to})
		}
		if from == to {
			_, err = fmt.Fprintf(a.stdout, "%s is up to date at schema version %d\n", t.where(), to)
		} else {
			_, err = fmt.Fprintf(a.stdout, "migrated %s from schema version %d to %d\n", t.where(), from, to)
		}
		return err
	})
}

// migrate migrates the target's database and returns the version it
// was at before.
func (t *target) migrate(ctx context.Context) (int, error) {
	if t.backend == backendSQLite {
		from := 0
		if _, err := os.Stat(t.path); err == nil {
			if from, err = sqlite.DatabaseVersion(ctx, t.path); err != nil {
				return 0, err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
		s, err := sqlite.Open(t.path, nil)
		if err != nil {
			return 0, err
		}
		return from, s.Close()
	}
	s, done, err := t.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	from, err := s.DatabaseVersion(ctx)
	if err != nil {
		return 0, err
	}
	return from, s.Migrate(ctx)
}

// migrationJSON is one migration as migrate status --json prints it.
type migrationJSON struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	Applied bool   `json:"applied"`
}

// migrateStatus is "migrate status".
func migrateStatus(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
	var c connFlags
	var o outFlags
	c.register(fs)
	o.register(fs)
	return onTarget(a, &c, func(ctx context.Context, t *target) error {
		v, names, err := t.status(ctx)
		if err != nil {
			return err
		}
		ms := make([]migrationJSON, len(names))
		for i, name := range names {
			ms[i] = migrationJSON{Version: i + 1, Name: name, Applied: i+1 <= v}
		}
		latest := t.latest()
		if o.json {
			return writeJSON(a.stdout, struct {
				Backend       string          `json:"backend"`
				Version       int             `json:"version"`
				LatestVersion int             `json:"latest_version"`
				Migrations    []migrationJSON `json:"migrations"`
			}{t.backend, v, latest, ms})
		}
		switch {
		case v < latest:
			fmt.Fprintf(a.stdout, "%s is at schema version %d of %d: run jobgenctl migrate up\n\n", t.where(), v, latest)
		case v > latest:
			fmt.Fprintf(a.stdout, "%s is at schema version %d, migrated by a newer jobgen; this jobgenctl knows up to %d\n\n", t.where(), v, latest)
		default:
			fmt.Fprintf(a.stdout, "%s is at schema version %d, up to date\n\n", t.where(), v)
		}
		tb := newTable(a.stdout)
		tb.row("VERSION", "NAME", "APPLIED")
		for _, m := range ms {
			tb.row(fmt.Sprint(m.Version), m.Name, yesNo(m.Applied))
		}
		return tb.flush()
	})
}

// status returns the database's schema version and the names of the
// migrations this jobgenctl knows, in version order.
func (t *target) status(ctx context.Context) (int, []string, error) {
	var names []string
	if t.backend == backendSQLite {
		v, err := t.sqliteVersion(ctx)
		if err != nil {
			return 0, nil, err
		}
		for _, m := range sqlite.Migrations() {
			names = append(names, m.Name)
		}
		return v, names, nil
	}
	ms, err := postgres.Migrations(t.opts)
	if err != nil {
		return 0, nil, err
	}
	for _, m := range ms {
		names = append(names, m.Name)
	}
	s, done, err := t.connect(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer done()
	v, err := s.DatabaseVersion(ctx)
	return v, names, err
}

// migrateSQL is "migrate sql".
func migrateSQL(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
	var c connFlags
	c.register(fs)
	from := fs.Int("from", 0, "SQLite: the schema version the database is at (0: a new file)")
	return onTarget(a, &c, func(ctx context.Context, t *target) error {
		var script string
		var err error
		if t.backend == backendSQLite {
			if *from < 0 || *from > sqlite.SchemaVersion() {
				return usagef("--from %d: want a schema version from 0 to %d", *from, sqlite.SchemaVersion())
			}
			script, err = sqlite.MigrationSQL(*from)
		} else {
			if *from != 0 {
				return usagef("--from is a SQLite option: the PostgreSQL script upgrades any version")
			}
			script, err = postgres.MigrationSQL(t.opts)
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprint(a.stdout, script)
		return err
	})
}

// onTarget returns the run function of a command that takes no arguments
// and works on the database c names, which it does not open: run gets its
// target.
func onTarget(a *app, c *connFlags, run func(ctx context.Context, t *target) error) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		t, err := a.target(c)
		if err != nil {
			return err
		}
		if err := noArgs(args); err != nil {
			return err
		}
		return run(ctx, t)
	}
}

// noArgs fails when a command that takes no arguments got some.
func noArgs(args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

// yesNo is b for a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
