package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

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
