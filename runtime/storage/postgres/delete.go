package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobDeleteFinished deletes up to p.DeleteLimit() jobs in terminal state
// p.State that finished before p.FinishedBefore, oldest first. The
// statement runs with its plan pinned (see pinSQL): the jobs to delete come
// from the retention index in finish order, so a batch reads about as many
// index entries as it deletes even when statistics still describe a small
// table, where the planner would otherwise sort every expired job for each
// batch (BenchmarkSweepKeepsPace deleted about 8,000 jobs/s unpinned,
// over 100,000 pinned).
func (s *Store) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	if err := s.checkParams("delete finished", p); err != nil {
		return 0, err
	}
	var n int64
	err := s.run.pinned(ctx, pinSQL, s.q.deleteFinished, []any{string(p.State), ts(p.FinishedBefore), p.DeleteLimit()}, func(rows pgx.Rows) error {
		rows.Close()
		n = rows.CommandTag().RowsAffected()
		return rows.Err()
	})
	if err != nil {
		return 0, translate("delete finished", err)
	}
	return int(n), nil
}
