package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/migration"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one versioned step of jobgen's schema.
type Migration struct {
	// Version numbers migrations from 1 without gaps.
	Version int
	// Name is the file name the migration came from.
	Name string
	// SQL is the migration with jobgen's names already filled in for the
	// options it was rendered for.
	SQL string
}

// migrations are the embedded migration files in version order, with
// {placeholders} for names.
var migrations = loadMigrations()

// SchemaVersion is the schema version this version of jobgen migrates to
// and works with.
var SchemaVersion = migrations[len(migrations)-1].Version

// loadMigrations reads the embedded migration files.
func loadMigrations() []Migration {
	files, err := migration.Load(migrationFS, "migrations")
	if err != nil {
		panic("postgres: embedded " + err.Error())
	}
	ms := make([]Migration, len(files))
	for i, f := range files {
		ms[i] = Migration(f)
	}
	return ms
}

const versionTableSQL = `
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {version} (
	version    integer     PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
);
`

// Migrations returns jobgen's migrations rendered for opts (schema and
// table prefix), in version order, for users who run migrations with their
// own tool. Each one must be recorded in the version table, as
// MigrationSQL's script does, so that Migrate and Connect recognise it.
func Migrations(opts *Options) ([]Migration, error) {
	n, err := newNames(opts)
	if err != nil {
		return nil, err
	}
	out := make([]Migration, len(migrations))
	for i, m := range migrations {
		m.SQL = n.render(m.SQL)
		out[i] = m
	}
	return out, nil
}

// MigrationSQL returns one idempotent script that creates or upgrades
// jobgen's schema for opts to SchemaVersion and records every version in
// the version table, exactly as Migrate would. Feed it to your own
// migration tool, or to psql.
func MigrationSQL(opts *Options) (string, error) {
	n, err := newNames(opts)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(n.render(versionTableSQL))
	for _, m := range migrations {
		fmt.Fprintf(&b, "\n-- jobgen migration %d: %s\n", m.Version, m.Name)
		b.WriteString(n.render(m.SQL))
		fmt.Fprintf(&b, "\nINSERT INTO %s (version, name) VALUES (%d, %s) ON CONFLICT (version) DO NOTHING;\n",
			n.version, m.Version, quoteLiteral(m.Name))
	}
	return b.String(), nil
}

// quoteLiteral quotes a file name we embedded as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Migrate creates the schema when missing and applies every migration the
// database lacks, in one transaction, serialised among concurrent callers
// by an advisory lock. It fails with an error matching
// storage.ErrSchemaTooNew when the database was migrated by a newer version
// of jobgen.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.n.lockKey); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, s.n.render(versionTableSQL)); err != nil {
			return err
		}
		have, err := s.checkVersion(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range migrations[have:] {
			if _, err := tx.Exec(ctx, s.n.render(m.SQL)); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+s.n.version+" (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return err
			}
		}
		return nil
	})
	return translate("migrate", err)
}

// CheckSchema checks that the database holds the schema this version of
// jobgen works with. It fails with an error matching storage.ErrSchemaTooOld
// when the schema was never migrated or is at an older version (run
// Migrate, or Connect with Options.AutoMigrate), and with one matching
// storage.ErrSchemaTooNew when a newer jobgen migrated it. Connect runs it
// unless it migrates; New does not, so call it on a store from New to fail
// at start-up rather than on the first statement.
func (s *Store) CheckSchema(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	v, err := s.checkVersion(ctx, s.pool)
	switch {
	case err != nil:
		return err
	case v == 0:
		return fmt.Errorf("postgres: schema %s is not migrated (%s records no version), this jobgen needs version %d: %s: %w",
			s.n.schema, s.n.version, SchemaVersion, migrateHint, storage.ErrSchemaTooOld)
	case v < SchemaVersion:
		return fmt.Errorf("postgres: schema %s is at version %d, this jobgen needs version %d: %s: %w",
			s.n.schema, v, SchemaVersion, migrateHint, storage.ErrSchemaTooOld)
	}
	return nil
}

// migrateHint says how to bring a schema up to SchemaVersion.
const migrateHint = "run Store.Migrate, set Options.AutoMigrate, or apply MigrationSQL"

// DatabaseVersion returns the schema version the database is at: 0 when
// jobgen never migrated it, more than SchemaVersion when a newer jobgen
// did. It changes nothing.
func (s *Store) DatabaseVersion(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	v, err := s.checkVersion(ctx, s.pool)
	if errors.Is(err, storage.ErrSchemaTooNew) {
		err = nil
	}
	return v, err
}

// checkVersion returns the schema version of the database (0 when it was
// never migrated) and fails when it is newer than SchemaVersion.
func (s *Store) checkVersion(ctx context.Context, q querier) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.n.version).Scan(&exists); err != nil {
		return 0, translate("read schema version", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := q.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM "+s.n.version).Scan(&v); err != nil {
		return 0, translate("read schema version", err)
	}
	if v > SchemaVersion {
		return v, fmt.Errorf("postgres: schema %s is at version %d, this jobgen knows up to %d: %w",
			s.n.schema, v, SchemaVersion, storage.ErrSchemaTooNew)
	}
	return v, nil
}
