package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jobgen/jobgen/runtime/storage/postgres"
)

// fillPostgres inserts $1 jobs in one statement, in the distribution of the
// PostgreSQL backend's operations benchmark (see benchPages). {jobs} and
// {id_seq} are the qualified names of the table and its id sequence.
const fillPostgres = `INSERT INTO {jobs} (id, kind, queue, state, attempt, max_attempts, run_after, lease_token,
	lease_expires_at, input, error_message, error_code, created_at, attempted_at, finished_at)
SELECT nextval('{id_seq}'), 'kind' || (i / 100 % 20), 'queue' || (i / 2000 % 10), st, 1, 3,
	now() - (($1 - i) * interval '1 millisecond'), CASE WHEN st = 'running' THEN i ELSE 0 END,
	CASE WHEN st = 'running' THEN now() + interval '1 hour' END, '{"n":1}',
	CASE WHEN st IN ('failed', 'aborted') THEN 'boom' ELSE '' END, CASE WHEN st IN ('failed', 'aborted') THEN 'error' ELSE '' END,
	now() - (($1 - i) * interval '1 millisecond'), CASE WHEN st <> 'pending' THEN now() END,
	CASE WHEN st IN ('completed', 'failed', 'aborted') THEN now() - (($1 - i) * interval '1 millisecond') + interval '1 second' END
FROM generate_series(1, $1) AS i,
	LATERAL (SELECT CASE WHEN i % 100 < 90 THEN 'completed' WHEN i % 100 < 95 THEN 'pending'
		WHEN i % 100 < 98 THEN 'failed' WHEN i % 100 < 99 THEN 'aborted' ELSE 'running' END AS st) s`

// BenchmarkPagesPostgres measures the pages on a PostgreSQL table of
// 1,000,000 jobs, in a schema of its own on JOBGEN_TEST_POSTGRES. It fills
// the table first.
func BenchmarkPagesPostgres(b *testing.B) {
	dsn := os.Getenv("JOBGEN_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("set JOBGEN_TEST_POSTGRES to a PostgreSQL URL to run this benchmark")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	rnd := make([]byte, 8)
	rand.Read(rnd)
	schema := "jobgen_bench_" + hex.EncodeToString(rnd)
	qschema := pgx.Identifier{schema}.Sanitize()
	defer pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+qschema+" CASCADE")
	store, err := postgres.New(pool, &postgres.Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	jobs := qschema + ".jobgen_jobs"
	fill := strings.NewReplacer("{jobs}", jobs, "{id_seq}", qschema+`."jobgen_jobs_id_seq"`).Replace(fillPostgres)
	if _, err := pool.Exec(ctx, fill, benchJobs); err != nil {
		b.Fatal(err)
	}
	// As autovacuum would have by now.
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+jobs); err != nil {
		b.Fatal(err)
	}
	benchPages(b, store)
}
