package sqlite

import (
	"strings"
	"testing"
)

// explain returns the query plan of q with args, one line per step.
func explain(t testing.TB, s *Store, q string, args ...any) []string {
	t.Helper()
	rows, err := s.write.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return plan
}

// TestQueryPlans checks that the claim path uses its partial indexes
// rather than scanning the table.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	for name, q := range map[string]struct {
		sql  string
		args []any
	}{
		"claimPending": {sqlClaimPending, []any{"q", 1, `["k"]`, 10}},
		"claimExpired": {sqlClaimExpired, []any{"q", 1, `["k"]`, 10}},
		"failExpired":  {sqlFailExpired, []any{"q", 1, `["k"]`}},
		"nextRunAfter": {sqlNextRunAfter, []any{"q", 1, `["k"]`}},
		"findUnique":   {sqlFindUnique, []any{"k", "u"}},
		// One seek of the unique-window index, read backwards.
		"findUniqueWindow": {sqlFindUniqueWindow, []any{"k", "u", 1}},
	} {
		plan := explain(t, s, q.sql, q.args...)
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", name, text)
		if name == "claimPending" && (!strings.Contains(text, "USING INDEX jobgen_jobs_pending (queue=?)") || strings.Contains(text, "TEMP B-TREE")) {
			t.Errorf("claimPending does not walk the pending index in claim order:\n%s", text)
		}
		if name == "findUniqueWindow" && (!strings.Contains(text, "USING INDEX jobgen_jobs_unique_window (kind=? AND unique_key=? AND created_at>?)") || strings.Contains(text, "TEMP B-TREE")) {
			t.Errorf("findUniqueWindow does not seek the unique-window index:\n%s", text)
		}
		for _, line := range plan {
			if strings.HasPrefix(line, "SCAN jobgen_jobs") {
				t.Errorf("%s scans the job table:\n%s", name, text)
			}
		}
	}
}
