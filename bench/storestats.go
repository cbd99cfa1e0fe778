package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// statsStore wraps a jobgen store and records, per method, the calls, the
// time spent in them and the jobs they carried, to show (with -storage-stats)
// which storage call bounds a jobgen row. The clock runs around the whole
// call, so it includes the round trip and, for writes, the commit.
type statsStore struct {
	storage.Storage
	mu    sync.Mutex
	calls map[string]*callStats
}

type callStats struct {
	n     int
	total time.Duration
	max   time.Duration
	jobs  int
}

// notifyingStatsStore is a statsStore over a backend with notifications,
// so the runtime still finds them.
type notifyingStatsStore struct {
	*statsStore
	storage.Notifier
}

// withStats wraps st, keeping its Notifier when it has one.
func withStats(st storage.Storage) (storage.Storage, *statsStore) {
	s := &statsStore{Storage: st, calls: make(map[string]*callStats)}
	if n, ok := st.(storage.Notifier); ok {
		return &notifyingStatsStore{statsStore: s, Notifier: n}, s
	}
	return s, s
}

func (s *statsStore) record(method string, start time.Time, jobs int) {
	d := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[method]
	if c == nil {
		c = &callStats{}
		s.calls[method] = c
	}
	c.n++
	c.total += d
	c.max = max(c.max, d)
	c.jobs += jobs
}

// JobInsert records and delegates.
func (s *statsStore) JobInsert(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	defer s.record("JobInsert", time.Now(), 1)
	return s.Storage.JobInsert(ctx, p)
}

// JobInsertMany records and delegates.
func (s *statsStore) JobInsertMany(ctx context.Context, p *storage.JobInsertManyParams) ([]*storage.JobInsertResult, error) {
	defer s.record("JobInsertMany", time.Now(), len(p.Jobs))
	return s.Storage.JobInsertMany(ctx, p)
}

// JobClaim records and delegates.
func (s *statsStore) JobClaim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	start := time.Now()
	res, err := s.Storage.JobClaim(ctx, p)
	jobs := 0
	if res != nil {
		jobs = len(res.Jobs)
	}
	s.record("JobClaim", start, jobs)
	return res, err
}

// JobHeartbeat records and delegates.
func (s *statsStore) JobHeartbeat(ctx context.Context, p *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	defer s.record("JobHeartbeat", time.Now(), len(p.Leases))
	return s.Storage.JobHeartbeat(ctx, p)
}

// JobFinish records and delegates.
func (s *statsStore) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	defer s.record("JobFinish", time.Now(), len(p.Jobs))
	return s.Storage.JobFinish(ctx, p)
}

// report writes one line per method: calls, jobs per call, mean and max
// time per call, and total time.
func (s *statsStore) report(w io.Writer, label string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []string{"JobInsertMany", "JobInsert", "JobClaim", "JobFinish", "JobHeartbeat"} {
		c := s.calls[m]
		if c == nil {
			continue
		}
		fmt.Fprintf(w, "storage stats %s: %-13s calls %6d  jobs/call %7.1f  mean %8.2f ms  max %8.2f ms  total %7.2f s\n",
			label, m, c.n, float64(c.jobs)/float64(c.n), ms(c.total)/float64(c.n), ms(c.max), c.total.Seconds())
	}
}
