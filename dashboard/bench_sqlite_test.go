//go:build cgo

package dashboard

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

// fillSQLite inserts ?1 jobs in one statement, in the distribution of the
// SQLite backend's operations benchmark (see benchPages). ?2 is the current
// time in microseconds.
const fillSQLite = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
s AS (SELECT i, CASE WHEN i % 100 < 90 THEN 'completed' WHEN i % 100 < 95 THEN 'pending'
	WHEN i % 100 < 98 THEN 'failed' WHEN i % 100 < 99 THEN 'aborted' ELSE 'running' END AS st FROM n)
INSERT INTO jobgen_jobs (kind, queue, input, state, attempt, max_attempts, run_after, lease_token, lease_expires_at,
	error_message, error_code, created_at, attempted_at, finished_at)
SELECT 'kind' || (i / 100 % 20), 'queue' || (i / 2000 % 10), '{"n":1}', st, 1, 3, ?2 - (?1 - i) * 1000,
	CASE WHEN st = 'running' THEN i END, CASE WHEN st = 'running' THEN ?2 + 3600000000 END,
	CASE WHEN st IN ('failed', 'aborted') THEN 'boom' ELSE '' END, CASE WHEN st IN ('failed', 'aborted') THEN 'error' ELSE '' END,
	?2 - (?1 - i) * 1000, CASE WHEN st <> 'pending' THEN ?2 END,
	CASE WHEN st IN ('completed', 'failed', 'aborted') THEN ?2 - (?1 - i) * 1000 + 1000000 END
FROM s`

// BenchmarkPagesSQLite measures the pages on a SQLite table of 1,000,000
// jobs. It fills the table first.
func BenchmarkPagesSQLite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "jobs.db")
	store, err := sqlite.Open(path, nil) // creates the schema
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		b.Fatal(err)
	}
	_, err = db.Exec(fillSQLite, benchJobs, time.Now().UnixMicro())
	db.Close()
	if err != nil {
		b.Fatal(err)
	}
	benchPages(b, store)
}
