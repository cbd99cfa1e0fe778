package memory

import (
	"context"
	"errors"

	"github.com/jobgen/jobgen/runtime/storage"
)

var errNotYet = errors.New("memory: not implemented yet")

// JobQuery is not implemented yet.
func (s *Store) JobQuery(ctx context.Context, p *storage.JobQueryParams) (*storage.JobQueryResult, error) {
	return nil, errNotYet
}

// JobCount is not implemented yet.
func (s *Store) JobCount(ctx context.Context, p *storage.JobCountParams) (*storage.JobCountResult, error) {
	return nil, errNotYet
}

// JobRetry is not implemented yet.
func (s *Store) JobRetry(ctx context.Context, p *storage.JobRetryParams) (*storage.JobBatchResult, error) {
	return nil, errNotYet
}

// JobDelete is not implemented yet.
func (s *Store) JobDelete(ctx context.Context, p *storage.JobDeleteParams) (*storage.JobBatchResult, error) {
	return nil, errNotYet
}

// JobAbortMany is not implemented yet.
func (s *Store) JobAbortMany(ctx context.Context, p *storage.JobAbortManyParams) (*storage.JobBatchResult, error) {
	return nil, errNotYet
}

// QueuePause is not implemented yet.
func (s *Store) QueuePause(ctx context.Context, p *storage.QueuePauseParams) error { return errNotYet }

// QueueResume is not implemented yet.
func (s *Store) QueueResume(ctx context.Context, p *storage.QueueResumeParams) error {
	return errNotYet
}

// QueueList is not implemented yet.
func (s *Store) QueueList(ctx context.Context, p *storage.QueueListParams) ([]*storage.QueueState, error) {
	return nil, errNotYet
}
