package postgres

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/jobsql"
)

// countSQL is JobCount's one statement. Its rows are tagged: "c" the
// clock, "q" a count per queue and state, "k" per kind and state, "r" a
// queue's earliest due run_after.
//
// Pending and running jobs per queue are counted exactly, from the claim's
// indexes: the pending run_after index alone, in its order (no sort or
// hash), and the running jobs (no more than the workers hold). The other
// groups are found by loose index scans, one seek per group: the kinds in
// the kind index, the queues with finished jobs in the (queue, state, id)
// index of finished jobs. Each of their counts of one group in one state
// reads at most $2 (storage.CountLimit) entries of that index, and its
// last column says whether it stopped there. The earliest run_after of
// each queue with pending jobs is one seek of the run_after index per
// queue.
//
// $1 now, $2 the count limit.
var countSQL = `WITH RECURSIVE ` + clockCTE + `,
k AS (
	SELECT (SELECT min(x.kind) FROM {jobs} x WHERE x.state IS NOT NULL) AS name
	UNION ALL
	SELECT (SELECT min(x.kind) FROM {jobs} x WHERE x.state IS NOT NULL AND x.kind > k.name)
	FROM k WHERE k.name IS NOT NULL
),
fq AS (
	SELECT (SELECT min(x.queue) FROM {jobs} x WHERE ` + jobsql.Terminal("x.") + `) AS name
	UNION ALL
	SELECT (SELECT min(x.queue) FROM {jobs} x WHERE ` + jobsql.Terminal("x.") + ` AND x.queue > fq.name)
	FROM fq WHERE fq.name IS NOT NULL
),
q AS (
	SELECT (SELECT min(x.queue) FROM {jobs} x WHERE x.state = 'pending') AS name
	UNION ALL
	SELECT (SELECT min(x.queue) FROM {jobs} x WHERE x.state = 'pending' AND x.queue > q.name)
	FROM q WHERE q.name IS NOT NULL
),
ready AS (
	SELECT q.name, (SELECT min(x.run_after AT TIME ZONE 'UTC') FROM {jobs} x
		WHERE x.state = 'pending' AND x.queue = q.name) AT TIME ZONE 'UTC' AS at
	FROM q WHERE q.name IS NOT NULL
)
SELECT 'c', NULL, NULL, NULL::int8, c.t, false FROM clock c
UNION ALL
SELECT 'k', k.name, v.st, v.n, NULL, v.n >= $2 FROM k, LATERAL (VALUES
	` + capped("kind = k.name", storage.States) + `) v(st, n)
WHERE k.name IS NOT NULL AND v.n > 0
UNION ALL
SELECT 'q', fq.name, v.st, v.n, NULL, v.n >= $2 FROM fq, LATERAL (VALUES
	` + capped("queue = fq.name", []storage.State{storage.StateCompleted, storage.StateFailed, storage.StateAborted}) + `) v(st, n)
WHERE fq.name IS NOT NULL AND v.n > 0
UNION ALL
SELECT 'q', x.queue, 'pending', count(*), NULL, false FROM {jobs} x WHERE x.state = 'pending' GROUP BY x.queue
UNION ALL
SELECT 'q', x.queue, 'running', count(*), NULL, false FROM {jobs} x WHERE x.state = 'running' GROUP BY x.queue
UNION ALL
SELECT 'r', r.name, NULL, NULL, r.at, false FROM ready r, clock c WHERE r.at <= c.t`

// capped returns the VALUES rows (state, count) of countSQL for the
// states sts of the group that cond (on alias x) selects, each count
// stopping at $2.
func capped(cond string, sts []storage.State) string {
	rows := make([]string, len(sts))
	for i, st := range sts {
		rows[i] = "('" + string(st) + "', " + jobsql.CappedCount("{jobs} x", "x."+cond, st, "$2", true) + ")"
	}
	return strings.Join(rows, ",\n\t")
}

// JobCount counts the jobs, each group and state up to storage.CountLimit,
// and finds each queue's oldest ready job, in one statement with its plan
// pinned (see pinSQL).
func (s *Store) JobCount(ctx context.Context, p *storage.JobCountParams) (*storage.JobCountResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	res := &storage.JobCountResult{}
	err := s.run.pinned(ctx, pinSQL, s.q.count, []any{ts(p.Now), int64(storage.CountLimit)}, func(rows pgx.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var (
				tag         string
				name, state pgtype.Text
				n           pgtype.Int8
				at          pgtype.Timestamptz
				atLeast     bool
			)
			if err := rows.Scan(&tag, &name, &state, &n, &at, &atLeast); err != nil {
				return err
			}
			g := storage.GroupCount{Name: name.String, State: storage.State(state.String), Count: n.Int64, AtLeast: atLeast}
			switch tag {
			case "c":
				res.Now = timestamptz(at)
			case "q":
				res.Queues = append(res.Queues, g)
			case "k":
				res.Kinds = append(res.Kinds, g)
			case "r":
				res.Ready = append(res.Ready, storage.QueueAge{Queue: name.String, OldestReady: timestamptz(at)})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, translate("count", err)
	}
	byGroup := func(a, b storage.GroupCount) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.State, b.State))
	}
	slices.SortFunc(res.Queues, byGroup)
	slices.SortFunc(res.Kinds, byGroup)
	slices.SortFunc(res.Ready, func(a, b storage.QueueAge) int { return cmp.Compare(a.Queue, b.Queue) })
	return res, nil
}
