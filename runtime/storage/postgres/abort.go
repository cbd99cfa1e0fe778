package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobAbort aborts a pending job at once, records an abort request on a
// running one (and notifies its owner), and leaves a finished job alone.
func (s *Store) JobAbort(ctx context.Context, p *storage.JobAbortParams) (*storage.JobAbortResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	for range maxStatementRetries {
		j, err := scanJob(s.run.QueryRow(ctx, s.q.abort, ts(p.Now), p.ID, s.n.channel))
		switch {
		case err == nil && j.State == storage.StateAborted:
			return &storage.JobAbortResult{Result: storage.AbortedNow, Job: j}, nil
		case err == nil:
			return &storage.JobAbortResult{Result: storage.AbortRequested, Job: j}, nil
		case err != pgx.ErrNoRows:
			return nil, translate(abortOp(p.ID), err)
		}
		// Finished, unknown, or changed under us: read it again.
		j, err = s.get(ctx, p.ID)
		if err != nil {
			return nil, translate(abortOp(p.ID), err)
		}
		if j.State.Terminal() {
			return &storage.JobAbortResult{Result: storage.AbortTooLate, Job: j}, nil
		}
	}
	return nil, fmt.Errorf("postgres: %s: its state kept changing", abortOp(p.ID))
}

// abortOp names the abort of job id in errors.
func abortOp(id int64) string { return fmt.Sprintf("abort job %d", id) }

// JobAbortRequested returns those of p.IDs that are running with an abort
// request, in ascending order, in one read.
func (s *Store) JobAbortRequested(ctx context.Context, p *storage.JobAbortRequestedParams) ([]int64, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if len(p.IDs) == 0 {
		return nil, nil
	}
	rows, err := s.run.Query(ctx, s.q.abortRequested, p.IDs)
	if err != nil {
		return nil, translate("abort requested", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, translate("abort requested", err)
	}
	return ids, nil
}
