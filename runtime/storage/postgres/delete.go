package postgres

import (
	"context"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobDeleteFinished deletes up to p.DeleteLimit() jobs in terminal state
// p.State that finished before p.FinishedBefore, oldest first.
func (s *Store) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	if err := s.checkParams("delete finished", p); err != nil {
		return 0, err
	}
	tag, err := s.run.Exec(ctx, s.q.deleteFinished, string(p.State), ts(p.FinishedBefore), p.DeleteLimit())
	if err != nil {
		return 0, translate("delete finished", err)
	}
	return int(tag.RowsAffected()), nil
}
