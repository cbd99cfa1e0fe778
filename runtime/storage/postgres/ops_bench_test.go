package postgres

import (
	"regexp"
	"strings"
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/backendtest"
	"github.com/jobgen/jobgen/runtime/storage/internal/jobsql"
)

// fillOpsSQL inserts $1 jobs in one statement, spread over 10 queues and
// 20 kinds, in the states of a busy table: 90% completed, 5% pending, 3%
// failed, 1% aborted, 1% running.
const fillOpsSQL = `INSERT INTO {jobs} (id, kind, queue, state, attempt, max_attempts, run_after, lease_token,
	lease_expires_at, input, error_message, error_code, created_at, attempted_at, finished_at)
SELECT nextval('{id_seq_lit}'), 'kind' || (i / 100 % 20), 'queue' || (i / 2000 % 10), st, 1, 3,
	now() - (($1 - i) * interval '1 millisecond'), CASE WHEN st = 'running' THEN i ELSE 0 END,
	CASE WHEN st = 'running' THEN now() + interval '1 hour' END, '{"n":1}',
	CASE WHEN st IN ('failed', 'aborted') THEN 'boom' ELSE '' END, CASE WHEN st IN ('failed', 'aborted') THEN 'error' ELSE '' END,
	now() - (($1 - i) * interval '1 millisecond'), CASE WHEN st <> 'pending' THEN now() END,
	CASE WHEN st IN ('completed', 'failed', 'aborted') THEN now() - (($1 - i) * interval '1 millisecond') + interval '1 second' END
FROM generate_series(1, $1) AS i,
	LATERAL (SELECT CASE WHEN i % 100 < 90 THEN 'completed' WHEN i % 100 < 95 THEN 'pending'
		WHEN i % 100 < 98 THEN 'failed' WHEN i % 100 < 99 THEN 'aborted' ELSE 'running' END AS st) s`

// fillOps fills s with n jobs (see fillOpsSQL).
func fillOps(tb testing.TB, s *Store, n int) {
	tb.Helper()
	if _, err := s.pool.Exec(tb.Context(), s.n.render(fillOpsSQL), n); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkOps measures the first page of filtered listings and the counts
// on a table of 1,000,000 jobs. It fills the table first (about a minute).
func BenchmarkOps(b *testing.B) {
	s := newTestStore(b)
	fillOps(b, s, 1_000_000)
	// As autovacuum would have by now.
	if _, err := s.pool.Exec(b.Context(), "VACUUM ANALYZE "+s.n.jobs); err != nil {
		b.Fatal(err)
	}
	backendtest.BenchOps(b, s)
	b.Run("RetryOne", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			// Job 100*k + 95 is failed.
			id := int64(100*(i%10000) + 95)
			if _, err := s.JobRetry(b.Context(), &storage.JobRetryParams{JobBatch: storage.JobBatch{Filter: storage.JobFilter{IDs: []int64{id}}}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, plan := range opsPlans(b, s, true) {
		b.Logf("%s at 1,000,000 jobs:\n%s", name, plan)
	}
}

// opsPlans returns the plans of the listings, a bulk pick and the counts,
// run as the store runs them (see explainPinned); with analyze, as run.
func opsPlans(tb testing.TB, s *Store, analyze bool) map[string]string {
	tb.Helper()
	explain := "EXPLAIN (COSTS OFF) "
	if analyze {
		explain = "EXPLAIN (ANALYZE, COSTS OFF) "
	}
	plans := make(map[string]string)
	for _, q := range backendtest.OpsQueries {
		page := jobsql.Page{Table: s.n.jobs, Columns: jobColumns, Filter: &q.Filter, Limit: 51}
		var d dialect
		plans["list "+q.Name] = explainPinned(tb, s, strings.TrimPrefix(explain, "EXPLAIN ")+page.SQL(&d), d.args...)
	}
	pick := jobsql.Page{Table: s.n.jobs, Columns: pickColumns, Filter: &storage.JobFilter{Queues: []string{"queue3"}},
		States: retryStates, Order: storage.OrderOldest, Limit: 1000}
	d := dialect{args: []any{nil, s.n.channel, nil}}
	q := `WITH ` + clockCTE + `, pick AS (` + pick.SQL(&d) + `)` + s.n.render(retryWriteSQL) + bulkTailSQL
	plans["retry"] = explainPinned(tb, s, strings.TrimPrefix(explain, "EXPLAIN ")+q, d.args...)
	plans["count"] = explainPinned(tb, s, strings.TrimPrefix(explain, "EXPLAIN ")+s.q.count, nil, int64(storage.CountLimit))
	return plans
}

// sortNode matches a Sort step of a plan (not a Merge Append's sort key).
var sortNode = regexp.MustCompile(`(?m)^\s*(->\s+)?Sort$`)

// TestOpsPlanFromEmpty: on a table analysed while empty, then filled, every
// listing, bulk pick and count reads the job table through its indexes,
// never by a sequential scan, and no listing sorts.
func TestOpsPlanFromEmpty(t *testing.T) {
	s := emptyAnalysedStore(t)
	fillOps(t, s, 30_000)
	for name, plan := range opsPlans(t, s, false) {
		t.Logf("%s:\n%s", name, plan)
		if strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s scans the job table:\n%s", name, plan)
		}
		if strings.HasPrefix(name, "list") && sortNode.MatchString(plan) {
			t.Errorf("%s sorts:\n%s", name, plan)
		}
		if !strings.Contains(plan, "Index") {
			t.Errorf("%s uses no index:\n%s", name, plan)
		}
	}
}
