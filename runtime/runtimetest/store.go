package runtimetest

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/jobgen/jobgen/runtime/storage"
)

// hookStore wraps a store, counts its calls and lets a test step into them.
// By itself it is only a storage.Storage; wrap (see below) passes on what
// else the inner store implements.
type hookStore struct {
	storage.Storage

	inserts, claims, heartbeats, finishes, finishedJobs, aborts, gets, lists, deletes atomic.Int64
	insertClaims                                                                      atomic.Int64

	mu sync.Mutex
	// afterClaim runs after the inner claim, with its result, before the
	// runtime sees it.
	afterClaim func(res *storage.JobClaimResult)
	// afterGet runs after the inner get, before the runtime sees the job.
	afterGet func(job *storage.Job)
	// abortErr, when set, is returned by JobAbort instead of aborting.
	abortErr error
	// finish, when set, is called instead of the inner JobFinish, with a
	// function that calls it.
	finish func(p *storage.JobFinishParams, finish func() (*storage.JobFinishResult, error)) (*storage.JobFinishResult, error)
	// publish, when set, is called instead of the inner Publish, with a
	// function that calls it.
	publish func(n storage.Notification, publish func() error) error
}

func (s *hookStore) hooks() (func(*storage.JobClaimResult), func(*storage.Job), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.afterClaim, s.afterGet, s.abortErr
}

func (s *hookStore) setAfterClaim(f func(*storage.JobClaimResult)) {
	s.mu.Lock()
	s.afterClaim = f
	s.mu.Unlock()
}

func (s *hookStore) setAfterGet(f func(*storage.Job)) {
	s.mu.Lock()
	s.afterGet = f
	s.mu.Unlock()
}

func (s *hookStore) setPublish(f func(n storage.Notification, publish func() error) error) {
	s.mu.Lock()
	s.publish = f
	s.mu.Unlock()
}

func (s *hookStore) setFinish(f func(p *storage.JobFinishParams, finish func() (*storage.JobFinishResult, error)) (*storage.JobFinishResult, error)) {
	s.mu.Lock()
	s.finish = f
	s.mu.Unlock()
}

func (s *hookStore) setAbortErr(err error) {
	s.mu.Lock()
	s.abortErr = err
	s.mu.Unlock()
}

// writes counts every call that writes for jobs: inserts and the writes
// after a claim. The retention sweep's deletes, which run on their own
// schedule, are counted apart (deletes).
func (s *hookStore) writes() int64 {
	return s.inserts.Load() + s.heartbeats.Load() + s.finishes.Load() + s.aborts.Load()
}

func (s *hookStore) JobInsert(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	s.inserts.Add(1)
	return s.Storage.JobInsert(ctx, p)
}

func (s *hookStore) JobInsertMany(ctx context.Context, p *storage.JobInsertManyParams) ([]*storage.JobInsertResult, error) {
	s.inserts.Add(1)
	return s.Storage.JobInsertMany(ctx, p)
}

func (s *hookStore) JobClaim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	s.claims.Add(1)
	res, err := s.Storage.JobClaim(ctx, p)
	if after, _, _ := s.hooks(); after != nil && err == nil {
		after(res)
	}
	return res, err
}

func (s *hookStore) JobHeartbeat(ctx context.Context, p *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	s.heartbeats.Add(1)
	return s.Storage.JobHeartbeat(ctx, p)
}

func (s *hookStore) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	s.finishes.Add(1)
	s.finishedJobs.Add(int64(len(p.Jobs)))
	finish := func() (*storage.JobFinishResult, error) { return s.Storage.JobFinish(ctx, p) }
	s.mu.Lock()
	hook := s.finish
	s.mu.Unlock()
	if hook != nil {
		return hook(p, finish)
	}
	return finish()
}

func (s *hookStore) JobAbort(ctx context.Context, p *storage.JobAbortParams) (*storage.JobAbortResult, error) {
	s.aborts.Add(1)
	if _, _, err := s.hooks(); err != nil {
		return nil, err
	}
	return s.Storage.JobAbort(ctx, p)
}

func (s *hookStore) JobGet(ctx context.Context, p *storage.JobGetParams) (*storage.Job, error) {
	s.gets.Add(1)
	job, err := s.Storage.JobGet(ctx, p)
	if _, after, _ := s.hooks(); after != nil && err == nil {
		after(job)
	}
	return job, err
}

func (s *hookStore) JobList(ctx context.Context, p *storage.JobListParams) ([]*storage.Job, error) {
	s.lists.Add(1)
	return s.Storage.JobList(ctx, p)
}

func (s *hookStore) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	s.deletes.Add(1)
	return s.Storage.JobDeleteFinished(ctx, p)
}

// wrap returns s as the runtime is to see it: with the inner store's
// JobInsertClaim when insertClaim is set and the inner store has one, and
// with its notifications when it has them.
func (s *hookStore) wrap(insertClaim bool) storage.Storage {
	_, ic := s.Storage.(storage.InsertClaimer)
	_, n := s.Storage.(storage.Notifier)
	switch {
	case ic && insertClaim && n:
		return insertClaimNotifierStore{insertClaimStore{s}}
	case ic && insertClaim:
		return insertClaimStore{s}
	case n:
		return notifierStore{s}
	}
	return s
}

// insertClaimStore is a hookStore over a store that can insert and claim in
// one call; it passes that on (storage.InsertClaimer), counted as an
// insert. Claim hooks do not see these claims.
type insertClaimStore struct{ *hookStore }

func (s insertClaimStore) JobInsertClaim(ctx context.Context, i *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error) {
	s.inserts.Add(1)
	s.insertClaims.Add(1)
	return s.Storage.(storage.InsertClaimer).JobInsertClaim(ctx, i, c)
}

// notifierStore is a hookStore that passes on the inner store's
// notifications (storage.Notifier).
type notifierStore struct{ *hookStore }

func (s notifierStore) Subscribe(ctx context.Context) (<-chan storage.Notification, error) {
	return s.Storage.(storage.Notifier).Subscribe(ctx)
}

func (s notifierStore) Publish(ctx context.Context, n storage.Notification) error {
	publish := func() error { return s.Storage.(storage.Notifier).Publish(ctx, n) }
	s.mu.Lock()
	hook := s.publish
	s.mu.Unlock()
	if hook != nil {
		return hook(n, publish)
	}
	return publish()
}

// insertClaimNotifierStore passes on both JobInsertClaim and notifications.
type insertClaimNotifierStore struct{ insertClaimStore }

func (s insertClaimNotifierStore) Subscribe(ctx context.Context) (<-chan storage.Notification, error) {
	return notifierStore{s.hookStore}.Subscribe(ctx)
}

func (s insertClaimNotifierStore) Publish(ctx context.Context, n storage.Notification) error {
	return notifierStore{s.hookStore}.Publish(ctx, n)
}

// hideNotifier returns s without its notifications, so the runtime over it
// behaves as over a backend that has none; JobInsertClaim stays.
func hideNotifier(s storage.Storage) storage.Storage {
	if _, ok := s.(storage.Notifier); !ok {
		return s
	}
	if ic, ok := s.(storage.InsertClaimer); ok {
		return struct {
			storage.Storage
			storage.InsertClaimer
		}{s, ic}
	}
	return struct{ storage.Storage }{s}
}
