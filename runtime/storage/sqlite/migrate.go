package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/migration"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations returns the embedded migrations in version order.
func migrations() ([]migration.Migration, error) {
	return migration.Load(migrationFS, "migrations")
}

// SchemaVersion returns the schema version this package migrates
// databases to. A database with a higher version was migrated by a newer
// jobgen and is refused.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic("sqlite: embedded migrations: " + err.Error())
	}
	return len(ms)
}

// Migration is one versioned step of jobgen's schema.
type Migration struct {
	// Version numbers migrations from 1 without gaps.
	Version int
	// Name is the file name the migration came from.
	Name string
	// SQL is the migration's statements.
	SQL string
}

// Migrations returns jobgen's migrations in version order, for users who
// apply them with their own tool; MigrationSQL gives them as one script.
func Migrations() []Migration {
	ms, err := migrations()
	if err != nil {
		panic("sqlite: embedded migrations: " + err.Error())
	}
	out := make([]Migration, len(ms))
	for i, m := range ms {
		out[i] = Migration(m)
	}
	return out
}

// MigrationSQL returns the script that brings a database at schema version
// from (0 for a database jobgen never migrated) to SchemaVersion and
// records the new version, as Open would. Run it in one transaction; it
// is not idempotent, so read the version first (DatabaseVersion).
func MigrationSQL(from int) (string, error) {
	ms := Migrations()
	if from < 0 || from > len(ms) {
		return "", fmt.Errorf("sqlite: migration script: %w: from version %d, want 0 to %d", storage.ErrInvalid, from, len(ms))
	}
	var b strings.Builder
	b.WriteString(versionTableSQL + ";\n")
	for _, m := range ms[from:] {
		fmt.Fprintf(&b, "\n-- jobgen migration %d: %s\n%s", m.Version, m.Name, m.SQL)
	}
	fmt.Fprintf(&b, "\nDELETE FROM jobgen_schema;\nINSERT INTO jobgen_schema (version) VALUES (%d);\n", len(ms))
	return b.String(), nil
}

// DatabaseVersion returns the schema version of the database file at
// path: 0 when jobgen never migrated it, more than SchemaVersion when a
// newer jobgen did. Unlike Open it creates, migrates and changes nothing:
// a missing file is an error.
func DatabaseVersion(ctx context.Context, path string) (int, error) {
	if err := driverMissing(); err != nil {
		return 0, err
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return 0, fmt.Errorf("sqlite: read schema version of %q: %w: want a file path", path, storage.ErrInvalid)
	}
	db, err := sql.Open(driverName, "file:"+escapePath(path)+"?mode=ro")
	if err != nil {
		return 0, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	defer db.Close()
	var tables int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'jobgen_schema'`).Scan(&tables)
	if err != nil || tables == 0 {
		return 0, wrapVersionErr(path, err)
	}
	var v int
	err = db.QueryRowContext(ctx, `SELECT version FROM jobgen_schema`).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return v, wrapVersionErr(path, err)
}

// wrapVersionErr says which file DatabaseVersion could not read.
func wrapVersionErr(path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: read schema version of %s: %w", path, err)
}

// versionTableSQL creates the table that holds the schema version.
const versionTableSQL = `CREATE TABLE IF NOT EXISTS jobgen_schema (version INTEGER NOT NULL)`

// migrate brings the schema up to SchemaVersion in one write transaction,
// so concurrent openers in several processes apply each step once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return s.withTx(ctx, "migrate", func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, versionTableSQL); err != nil {
			return err
		}
		var cur int
		err := tx.QueryRowContext(ctx, `SELECT version FROM jobgen_schema`).Scan(&cur)
		switch {
		case err == sql.ErrNoRows:
			if _, err := tx.ExecContext(ctx, `INSERT INTO jobgen_schema (version) VALUES (0)`); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if cur > len(ms) {
			return fmt.Errorf("%w: database schema version %d, this version of jobgen knows up to %d; upgrade jobgen",
				storage.ErrSchemaTooNew, cur, len(ms))
		}
		for _, m := range ms[cur:] {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %s: %w", m.Name, err)
			}
		}
		if cur < len(ms) {
			if _, err := tx.ExecContext(ctx, `UPDATE jobgen_schema SET version = ?`, len(ms)); err != nil {
				return err
			}
		}
		return nil
	})
}
