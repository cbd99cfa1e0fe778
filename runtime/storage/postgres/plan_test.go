package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// explainPinned returns the plan of sql run as the store runs it: behind
// pinSQL, in one implicit transaction.
func explainPinned(t testing.TB, s *Store, sql string, args ...any) string {
	t.Helper()
	b := &pgx.Batch{}
	b.Queue(pinSQL)
	b.Queue("EXPLAIN "+sql, args...)
	br := s.pool.SendBatch(t.Context(), b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	rows, err := br.Query()
	if err != nil {
		t.Fatal(err)
	}
	return planText(t, rows)
}

// planText reads the lines of an EXPLAIN result into one string.
func planText(t testing.TB, rows pgx.Rows) string {
	t.Helper()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

// emptyAnalysedStore prepares a plan test (skipped with -short; run in
// parallel): a fresh store whose jobs table was analysed while empty and
// claimed from (see emptyAnalysed), which the test then fills.
func emptyAnalysedStore(t *testing.T) *Store {
	t.Helper()
	if testing.Short() {
		t.Skip("fills a table with 30,000 jobs")
	}
	t.Parallel()
	s := newTestStore(t)
	emptyAnalysed(t, s)
	return s
}

// TestClaimPlanFromEmpty: a table analysed while empty, claimed from a few
// times, then filled faster than autovacuum analyses it, still claims
// through the pending index in claim order, never by sorting or scanning
// the whole queue.
func TestClaimPlanFromEmpty(t *testing.T) {
	s := emptyAnalysedStore(t)
	fill(t, s, 30_000)
	pl := fullPlan(100)
	plan := explainPinned(t, s, s.q.claim, nil, "q", []string{"k"}, int64(100), int64(60e6), s.n.channel,
		pl.lo, pl.hi, pl.runAfter, pl.ids, true, time.Time{})
	checkClaimPlan(t, s, "claim", plan)
	// The probes of the floors read the same indexes from their front,
	// in their order.
	for what, c := range map[string]struct{ index, plan string }{
		"pending probe": {"jobgen_jobs_pending", explainPinned(t, s, s.q.probePending, nil, "q", []string{"k"}, []int32{0, 5})},
		"expired probe": {"jobgen_jobs_running_lease", explainPinned(t, s, s.q.probeExpired, nil, "q", []string{"k"})},
	} {
		if !strings.Contains(c.plan, "Index Scan using "+s.n.prefix+c.index+" on ") || strings.Contains(c.plan, "Sort") ||
			strings.Contains(c.plan, "Seq Scan") {
			t.Errorf("%s plan does not read %s in its order:\n%s", what, c.index, c.plan)
		}
	}
	// And the claims themselves drain the backlog in batches.
	for range 10 {
		if n := claimFinish(t, s, 100); n != 100 {
			t.Fatalf("claimed %d jobs, want 100", n)
		}
	}
}

// genericSession returns a pooled connection with pinGenericSQL's settings
// for the whole session, so that a statement prepared on it keeps the one
// generic plan made at its first execution.
func genericSession(t *testing.T, s *Store) *pgxpool.Conn {
	t.Helper()
	conn, err := s.pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "RESET ALL", pgx.QueryExecModeSimpleProtocol)
		conn.Release()
	})
	for _, q := range []string{
		"SET enable_seqscan = off", "SET enable_sort = off", "SET enable_hashjoin = off", "SET enable_mergejoin = off",
		"SET jit = off", "SET plan_cache_mode = force_generic_plan",
	} {
		if _, err := conn.Exec(t.Context(), q, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// prepareGeneric prepares sql on conn as name, with parameters of types,
// and executes it once with args (an SQL argument list), so its generic
// plan is made now. explain returns the EXPLAIN of that plan, later.
func prepareGeneric(t *testing.T, conn *pgxpool.Conn, name, types, sql, args string) (explain func() string) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), "PREPARE "+name+"("+types+") AS "+sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // before genericSession's cleanup releases conn
		_, _ = conn.Exec(context.Background(), "DEALLOCATE "+name, pgx.QueryExecModeSimpleProtocol)
	})
	if _, err := conn.Exec(t.Context(), "EXECUTE "+name+args, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	return func() string {
		t.Helper()
		rows, err := conn.Query(t.Context(), "EXPLAIN EXECUTE "+name+args, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		return planText(t, rows)
	}
}

// TestClaimGenericPlanFromEmpty: the generic plans a connection keeps for
// the claim and its peek, made while the table was empty and analysed,
// still claim through the pending index, find the rows they write by
// primary key and peek through the run_after index after the table has
// filled up.
func TestClaimGenericPlanFromEmpty(t *testing.T) {
	s := emptyAnalysedStore(t)
	conn := genericSession(t, s)
	explain := prepareGeneric(t, conn, "jobgen_claim_test",
		"timestamptz, text, text[], int8, int8, text, int4[], int4[], timestamptz[], int8[], bool, timestamptz", s.q.claim,
		"(NULL, 'q', '{k}', 100, 60000000, 'test', '{-2147483648,0,1}', '{-1,0,2147483647}', '{-infinity,-infinity,-infinity}', '{0,0,0}', true, '-infinity')")
	peek := prepareGeneric(t, conn, "jobgen_claim_peek_test", "timestamptz, text, text[]", s.q.claimPeek, "(NULL, 'q', '{k}')")
	fill(t, s, 30_000)
	plan := explain()
	checkClaimPlan(t, s, "generic claim", plan)
	if strings.Count(plan, "Index Cond: (id = ANY") != 2 {
		t.Errorf("generic claim plan does not find the rows it writes by primary key:\n%s", plan)
	}
	// The peek at the next run_after reads the run_after index from the
	// clock on, not every pending job of the queue.
	plan = peek()
	if !strings.Contains(plan, "_jobs_pending_run_after on ") || strings.Contains(plan, "_jobs_pending on ") ||
		strings.Contains(plan, "Sort") || strings.Contains(plan, "Seq Scan") {
		t.Errorf("generic peek plan does not read the run_after index alone:\n%s", plan)
	}
}

// checkClaimPlan fails unless the claim plan reads the ready jobs through
// the pending index in claim order (no sort of them) and has no scan, hash
// or merge join.
func checkClaimPlan(t *testing.T, s *Store, what, plan string) {
	t.Helper()
	if !strings.Contains(plan, "Index Scan using "+s.n.prefix+"jobgen_jobs_pending on ") {
		t.Errorf("%s plan does not scan the pending index:\n%s", what, plan)
	}
	for _, bad := range []string{"Seq Scan", "Hash Join", "Merge Join"} {
		if strings.Contains(plan, bad) {
			t.Errorf("%s plan has %q:\n%s", what, bad, plan)
		}
	}
	pend := planSection(plan, "CTE pend")
	if strings.Contains(pend, "Sort") {
		t.Errorf("%s plan sorts the ready jobs instead of reading them in index order:\n%s", what, plan)
	}
	// Each range's scan starts at its floor (floors.go): the row
	// comparison is a condition of the index scan, not a filter after it.
	starts := false
	for _, line := range strings.Split(pend, "\n") {
		starts = starts || strings.Contains(line, "Index Cond: ") &&
			strings.Contains(line, "(ROW(priority, run_after, id) >= ROW(b.lo, b.run_after, b.id)) AND (priority <= b.hi)")
	}
	if !starts {
		t.Errorf("%s plan does not start the pending scan at the floors:\n%s", what, plan)
	}
}

// TestFinishPlanFromEmpty: on a table analysed while empty that then
// filled up faster than autovacuum analyses it, the finishes and the
// heartbeat find every row they lock, delete and update by primary key from
// their input, never through the running jobs' index or a scan. (Generic
// plans made on the empty table would not: the planner would take the
// table as the outer side of the join and read all of it per statement.)
func TestFinishPlanFromEmpty(t *testing.T) {
	s := emptyAnalysedStore(t)
	fill(t, s, 30_000)
	for range 3 {
		claimFinish(t, s, 100)
	}
	ids, toks := []int64{1, 2}, []int64{1, 2}
	outcomes, outputs, texts, delays := []int32{1, 3}, [][]byte{nil, nil}, []string{"", ""}, []int64{0, 0}
	checkPKPlan(t, "finish", explainPinned(t, s, s.q.finish, nil, ids, toks, outcomes, outputs, texts, texts, delays,
		[]bool{false, true}, s.n.channel), 3)
	checkPKPlan(t, "heartbeat", explainPinned(t, s, s.q.heartbeat, nil, ids, toks, int64(60e6)), 2)
	for what, plan := range map[string]string{
		"update-only finish":   explainPinned(t, s, s.q.finishUpdate, nil, ids, toks, outcomes, outputs, texts, texts, delays),
		"complete-only finish": explainPinned(t, s, s.q.finishComplete, nil, ids, toks, outputs, nil),
		"delete-only finish":   explainPinned(t, s, s.q.finishDelete, ids, toks),
	} {
		checkPKPlan(t, what, plan, 1)
	}
}

// TestFinishOneGenericPlanFromEmpty: the generic plans a connection keeps
// for the finishes of one job, made while the table was empty and
// analysed, find the row by primary key after the table has filled up.
func TestFinishOneGenericPlanFromEmpty(t *testing.T) {
	s := emptyAnalysedStore(t)
	conn := genericSession(t, s)
	update := prepareGeneric(t, conn, "jobgen_finish_one_test", "timestamptz, int8, int8, int4, bytea, text, text, int8",
		s.q.finishOne, `(NULL, 1, 1, 1, NULL, '', '', 0)`)
	del := prepareGeneric(t, conn, "jobgen_finish_one_delete_test", "int8, int8", s.q.finishOneDelete, "(1, 1)")
	fill(t, s, 30_000)
	checkPKPlan(t, "one-job finish", update(), 1)
	checkPKPlan(t, "one-job delete", del(), 1)
}

// checkPKPlan fails unless plan finds its rows by want primary key lookups
// and nothing else: no scan, no sort, no hash or merge join, and not the
// running jobs' index.
func checkPKPlan(t *testing.T, what, plan string, want int) {
	t.Helper()
	if n := strings.Count(plan, "_jobs_pkey on "); n != want {
		t.Errorf("%s plan has %d primary key lookups, want %d:\n%s", what, n, want, plan)
	}
	// A primary key scan without a condition would read the whole table.
	if n := strings.Count(plan, "Index Cond: (id = "); n != want {
		t.Errorf("%s plan has %d primary key lookups by id, want %d:\n%s", what, n, want, plan)
	}
	for _, bad := range []string{"Seq Scan", "Hash Join", "Merge Join", "running_lease", "Sort"} {
		if strings.Contains(plan, bad) {
			t.Errorf("%s plan has %q:\n%s", what, bad, plan)
		}
	}
}

// TestUniqueWindowPlanFromEmpty: the lookup of a unique window's holder,
// on a table analysed while empty and then filled, reads the unique-window
// index backwards from the end of its key, never the table.
func TestUniqueWindowPlanFromEmpty(t *testing.T) {
	s := emptyAnalysedStore(t)
	fill(t, s, 30_000)
	rows, err := s.pool.Query(t.Context(), "EXPLAIN "+s.q.windowByKey, nil, []string{"k"}, []string{"u"}, []int64{3600e6}, []*time.Time{nil})
	if err != nil {
		t.Fatal(err)
	}
	plan := planText(t, rows)
	t.Logf("window lookup:\n%s", plan)
	if !strings.Contains(plan, "Index Scan Backward using") || !strings.Contains(plan, "jobgen_jobs_unique_window") || strings.Contains(plan, "Seq Scan") {
		t.Errorf("the window lookup does not read the unique-window index backwards:\n%s", plan)
	}
}

// planSection returns the node of plan whose line starts with head (after
// its indentation) and the lines under it, up to the next line indented as
// little or less.
func planSection(plan, head string) string {
	lines := strings.Split(plan, "\n")
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		if !strings.HasPrefix(trimmed, head) {
			continue
		}
		indent := len(line) - len(trimmed)
		end := i + 1
		for end < len(lines) && len(lines[end])-len(strings.TrimLeft(lines[end], " ")) > indent {
			end++
		}
		return strings.Join(lines[i:end], "\n")
	}
	return ""
}
