package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jobgen/jobgen/runtime/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Files are
// named NNNN_what.sql and numbered from 1 without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []migration
	for i, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want number %04d", base, i+1)
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
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

// migrate brings the schema up to SchemaVersion in one write transaction,
// so concurrent openers in several processes apply each step once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return s.withTx(ctx, "migrate", func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS jobgen_schema (version INTEGER NOT NULL)`); err != nil {
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
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply %s: %w", m.name, err)
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
