package postgres

import (
	"cmp"
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/jobgen/jobgen/runtime/storage"
)

// countSQL is JobCount's one statement. Its rows are tagged: "c" the
// clock, "q" a count per queue and state, "k" per kind and state (each an
// index-only scan of the (queue, state, id) or (kind, state, id) index in
// its order, so no sort or hash), "r" a queue's earliest due run_after,
// found by a loose scan of the pending run_after index: one seek per queue
// with pending jobs.
//
// $1 now.
const countSQL = `WITH RECURSIVE ` + clockCTE + `,
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
SELECT 'c', NULL, NULL, NULL::int8, c.t FROM clock c
UNION ALL
SELECT 'q', j.queue, j.state, count(*), NULL FROM {jobs} j GROUP BY j.queue, j.state
UNION ALL
SELECT 'k', j.kind, j.state, count(*), NULL FROM {jobs} j GROUP BY j.kind, j.state
UNION ALL
SELECT 'r', r.name, NULL, NULL, r.at FROM ready r, clock c WHERE r.at <= c.t`

// JobCount counts the jobs and finds each queue's oldest ready job, in one
// statement with its plan pinned (see pinSQL).
func (s *Store) JobCount(ctx context.Context, p *storage.JobCountParams) (*storage.JobCountResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	res := &storage.JobCountResult{}
	err := s.run.pinned(ctx, pinSQL, s.q.count, []any{ts(p.Now)}, func(rows pgx.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var (
				tag         string
				name, state pgtype.Text
				n           pgtype.Int8
				at          pgtype.Timestamptz
			)
			if err := rows.Scan(&tag, &name, &state, &n, &at); err != nil {
				return err
			}
			g := storage.GroupCount{Name: name.String, State: storage.State(state.String), Count: n.Int64}
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
