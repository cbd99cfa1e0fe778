package postgres

import (
	"strings"
	"testing"
	"time"
)

// TestDeleteFinishedPlanFromEmpty: a table analysed while empty, then
// filled with expired jobs faster than autovacuum analyses it, still
// deletes a batch through the retention index in finish order, finding
// each row by primary key, never by sorting or scanning the finished jobs.
func TestDeleteFinishedPlanFromEmpty(t *testing.T) {
	s := emptyAnalysedStore(t)
	fillExpired(t, s, 30_000)
	plan := explainPinned(t, s, s.q.deleteFinished, "completed", time.Now(), 1000, time.Time{})
	if !strings.Contains(plan, "jobgen_jobs_finished on ") {
		t.Errorf("delete plan does not read the retention index:\n%s", plan)
	}
	checkPKPlan(t, "delete finished", plan, 1)
}
