package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// The statements of JobCount. The group counts are index-only scans of the
// (queue, state, id) and (kind, state, id) indexes; the oldest ready job of
// each queue is found by a loose scan of the pending run_after index: one
// seek per queue with pending jobs.
const (
	countQueuesSQL = `SELECT queue, state, count(*) FROM {jobs} GROUP BY queue, state ORDER BY queue COLLATE "C", state COLLATE "C"`
	countKindsSQL  = `SELECT kind, state, count(*) FROM {jobs} GROUP BY kind, state ORDER BY kind COLLATE "C", state COLLATE "C"`

	// $1 now.
	oldestReadySQL = `WITH RECURSIVE ` + clockCTE + `,
q AS (
	SELECT (SELECT min(x.queue) FROM {jobs} x WHERE x.state = 'pending') AS name
	UNION ALL
	SELECT (SELECT min(x.queue) FROM {jobs} x WHERE x.state = 'pending' AND x.queue > q.name)
	FROM q WHERE q.name IS NOT NULL
)
SELECT r.name, r.at FROM (
	SELECT q.name, (SELECT min(x.run_after AT TIME ZONE 'UTC') FROM {jobs} x
		WHERE x.state = 'pending' AND x.queue = q.name) AT TIME ZONE 'UTC' AS at
	FROM q WHERE q.name IS NOT NULL) r, clock c
WHERE r.at <= c.t ORDER BY r.name COLLATE "C"`

	// clockSQL reads the storage clock.
	clockSQL = `WITH ` + clockCTE + ` SELECT t FROM clock`
)

// JobCount counts the jobs and finds each queue's oldest ready job, in one
// round trip.
func (s *Store) JobCount(ctx context.Context, p *storage.JobCountParams) (*storage.JobCountResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	res := &storage.JobCountResult{}
	b := &pgx.Batch{}
	b.Queue(s.n.render(clockSQL), ts(p.Now)).QueryRow(func(r pgx.Row) error {
		var t time.Time
		err := r.Scan(&t)
		res.Now = t.UTC()
		return err
	})
	group := func(dst *[]storage.GroupCount) func(pgx.Rows) error {
		return func(rows pgx.Rows) error {
			var err error
			*dst, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.GroupCount, error) {
				var g storage.GroupCount
				var st string
				err := r.Scan(&g.Name, &st, &g.Count)
				g.State = storage.State(st)
				return g, err
			})
			return err
		}
	}
	b.Queue(s.n.render(countQueuesSQL)).Query(group(&res.Queues))
	b.Queue(s.n.render(countKindsSQL)).Query(group(&res.Kinds))
	b.Queue(s.n.render(oldestReadySQL), ts(p.Now)).Query(func(rows pgx.Rows) error {
		var err error
		res.Ready, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.QueueAge, error) {
			var a storage.QueueAge
			err := r.Scan(&a.Queue, &a.OldestReady)
			a.OldestReady = a.OldestReady.UTC()
			return a, err
		})
		return err
	})
	if err := s.run.SendBatch(ctx, b).Close(); err != nil {
		return nil, translate("count", err)
	}
	return res, nil
}
