package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobInsertClaim inserts one job and claims in the same implicit
// transaction: the pin, the single-row insert and the claim go pipelined in
// one round trip, and commit once. A job skipped on its unique key is then
// resolved to its holder as JobInsert does. Through a WithTx view it is
// JobInsert and then JobClaim in the caller's transaction.
func (s *Store) JobInsertClaim(ctx context.Context, i *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error) {
	if err := s.checkInserts([]*storage.JobInsertParams{i}); err != nil {
		return nil, nil, err
	}
	if err := s.checkParams("claim", c); err != nil {
		return nil, nil, err
	}
	return s.run.insertClaim(ctx, i, c)
}

// insertClaim pipelines the pin, the insert, the claim and its peek.
func (r poolRunner) insertClaim(ctx context.Context, i *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error) {
	s := r.s
	var (
		job *storage.Job
		cl  *storage.JobClaimResult
	)
	err := retry(ctx, func() error {
		pl := s.plan(c)
		queue := func(b *pgx.Batch) {
			b.Queue(s.q.insertOne, s.insertOneArgs(i.Now, i, false)...)
			s.queueClaim(b, c, pl)
		}
		return r.batch(ctx, pinGenericSQL, queue, func(br pgx.BatchResults) (err error) {
			job, err = scanJob(br.QueryRow())
			if err == pgx.ErrNoRows {
				job, err = nil, nil
			}
			if err != nil {
				return err
			}
			s.floors.lower(&storage.JobInsertResult{Job: job})
			cl, err = readBatchClaim(br, c, pl)
			return err
		})
	})
	if err != nil {
		return nil, nil, translate("insert and claim", err)
	}
	if job == nil { // skipped on its unique key: find the holder
		ins, err := s.JobInsert(ctx, i)
		return ins, cl, err
	}
	if !slices.ContainsFunc(cl.Jobs, func(j *storage.ClaimedJob) bool { return j.ID == job.ID }) {
		s.announce([]string{i.Queue}, nil) // others may claim it
	}
	return &storage.JobInsertResult{Job: job}, cl, nil
}

// insertClaim inserts and then claims, each as in the caller's transaction.
func (r txRunner) insertClaim(ctx context.Context, i *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error) {
	ins, err := r.s.JobInsert(ctx, i)
	if err != nil {
		return nil, nil, err
	}
	cl, err := r.s.JobClaim(ctx, c)
	return ins, cl, err
}
