package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/backendtest"
	"github.com/jobgen/jobgen/runtime/storage/internal/jobsql"
)

// fillOpsSQL inserts ?1 jobs in one statement, spread over 10 queues and
// 20 kinds, in the states of a busy table: 90% completed, 5% pending, 3%
// failed, 1% aborted, 1% running. ?2 is the current time in microseconds.
const fillOpsSQL = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
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

// fillOps fills s with n jobs (see fillOpsSQL).
func fillOps(tb testing.TB, s *Store, n int) {
	tb.Helper()
	if _, err := s.write.ExecContext(tb.Context(), fillOpsSQL, n, time.Now().UnixMicro()); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkOps measures the first page of filtered listings and the counts
// on a table of 1,000,000 jobs. It fills the table first.
func BenchmarkOps(b *testing.B) {
	s, _ := newStore(b, nil)
	fillOps(b, s, 1_000_000)
	backendtest.BenchOps(b, s)
}

// TestOpsPlans checks that every listing, count and bulk pick reads
// through an index, never a scan of the job table, and that no listing
// sorts more than its arms' pages.
func TestOpsPlans(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	check := func(name, q string, args []any, sortOK bool) {
		t.Helper()
		plan := explain(t, s, q, args...)
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", name, text)
		for _, line := range plan {
			if strings.HasPrefix(line, "SCAN jobgen_jobs") && !strings.Contains(line, "USING COVERING INDEX") && !strings.Contains(line, "USING INDEX") {
				t.Errorf("%s scans the job table:\n%s", name, text)
			}
			if !sortOK && strings.Contains(line, "TEMP B-TREE") {
				t.Errorf("%s sorts:\n%s", name, text)
			}
		}
	}
	for _, q := range backendtest.OpsQueries {
		var d dialect
		page := jobsql.Page{Table: "jobgen_jobs", Columns: jobColumns, Filter: &q.Filter, Limit: 51}
		// A union of arms merges their pages (at most a page each).
		check("list "+q.Name, page.SQL(&d), d.args, true)
		var bd dialect
		pick := jobsql.Page{Table: "jobgen_jobs", Columns: "j.id", Filter: &q.Filter, States: retryStates, Order: storage.OrderOldest, Limit: 1000}
		check("retry pick "+q.Name, pick.SQL(&bd), bd.args, true)
	}
	check("count queues", sqlCountQueues, []any{storage.CountLimit}, false)
	check("count kinds", sqlCountKinds, []any{storage.CountLimit}, false)
	check("oldest ready", sqlOldestReady, []any{time.Now().UnixMicro()}, true) // sorts the queues
	check("queue paused", sqlQueuePaused, []any{"q"}, false)
}
