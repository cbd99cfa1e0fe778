package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobDeleteFinished deletes up to p.DeleteLimit() jobs in terminal state
// p.State that finished before p.FinishedBefore, oldest first. The
// statement runs with its plan pinned (see pinSQL): the jobs to delete come
// from the retention index in finish order, so a batch reads about as many
// index entries as it deletes even when statistics still describe a small
// table, where the planner would otherwise sort every expired job for each
// batch (BenchmarkSweepKeepsPace deleted about 8,000 jobs/s unpinned,
// over 100,000 pinned). The scan starts at the store's sweep floor for the
// state (see sweepFloors).
func (s *Store) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	if err := s.checkParams("delete finished", p); err != nil {
		return 0, err
	}
	floor := s.sweeps.floor(p.State)
	var (
		n      int64
		latest pgtype.Timestamptz
	)
	err := s.run.pinned(ctx, pinSQL, s.q.deleteFinished, []any{string(p.State), ts(p.FinishedBefore), p.DeleteLimit(), floor},
		func(rows pgx.Rows) error {
			if rows.Next() {
				if err := rows.Scan(&n, &latest); err != nil {
					return err
				}
			}
			rows.Close()
			return rows.Err()
		})
	if err != nil {
		return 0, translate("delete finished", err)
	}
	s.sweeps.done(p.State, floor, int(n) < p.DeleteLimit(), p.FinishedBefore, timestamptz(latest))
	return int(n), nil
}

// sweepFloors keep the sweep cheap while PostgreSQL cannot vacuum (see
// floors.go for the claim's): a deleted job's entry stays in the retention
// index until vacuum removes it, and every later batch would walk past all
// of them from the index's front. So the store remembers, per state, the
// finish time below which its deletes left no job: the latest job a full
// batch deleted, or the cut-off (less floorMargin, for a finish that
// committed late) of a batch that found fewer than its limit. A job the
// store could not delete there (one locked by another statement) is found
// by the scan from the front every sweepFloorResetInterval.
type sweepFloors struct {
	mu      sync.Mutex
	floors  map[storage.State]time.Time
	resetAt time.Time
}

// sweepFloorResetInterval is how often the sweep scans from the front.
const sweepFloorResetInterval = 10 * time.Minute

// floor returns where the next delete of state starts.
func (f *sweepFloors) floor(state storage.State) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := time.Now(); f.floors == nil || now.Sub(f.resetAt) >= sweepFloorResetInterval {
		f.floors, f.resetAt = make(map[storage.State]time.Time), now
	}
	return f.floors[state]
}

// done raises the floor of state after a delete that started at from and
// either caught up (deleted less than its limit) with every job before
// cut, or deleted jobs up to latest.
func (f *sweepFloors) done(state storage.State, from time.Time, caughtUp bool, cut, latest time.Time) {
	to := latest
	if caughtUp {
		to = cut.Add(-floorMargin)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.floors != nil && f.floors[state].Equal(from) && to.After(from) {
		f.floors[state] = to
	}
}
