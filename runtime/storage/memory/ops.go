package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jobgen/jobgen/runtime/storage"
)

// filter is a storage.JobFilter in the store's terms.
type filter struct {
	f                        *storage.JobFilter
	createdFrom, createdTo   int64
	finishedFrom, finishedTo int64
	finishedOnly             bool
}

func newFilter(f *storage.JobFilter) filter {
	m := filter{f: f, createdFrom: unset, createdTo: 1<<63 - 1, finishedFrom: unset, finishedTo: 1<<63 - 1}
	if !f.CreatedAfter.IsZero() {
		m.createdFrom = micros(f.CreatedAfter)
	}
	if !f.CreatedBefore.IsZero() {
		m.createdTo = micros(f.CreatedBefore)
	}
	if !f.FinishedAfter.IsZero() {
		m.finishedFrom, m.finishedOnly = micros(f.FinishedAfter), true
	}
	if !f.FinishedBefore.IsZero() {
		m.finishedTo, m.finishedOnly = micros(f.FinishedBefore), true
	}
	return m
}

func (m *filter) match(j *job) bool {
	f := m.f
	return (len(f.IDs) == 0 || slices.Contains(f.IDs, j.id)) &&
		(len(f.States) == 0 || slices.Contains(f.States, stateNames[j.state])) &&
		(len(f.Kinds) == 0 || slices.Contains(f.Kinds, j.lane.kind)) &&
		(len(f.Queues) == 0 || slices.Contains(f.Queues, j.lane.queue)) &&
		(f.UniqueKey == "" || j.uniqueKey == f.UniqueKey) &&
		j.created >= m.createdFrom && j.created < m.createdTo &&
		(!m.finishedOnly || j.finished != unset && j.finished >= m.finishedFrom && j.finished < m.finishedTo)
}

// JobQuery returns one page of copies of the jobs matching p.Filter.
func (s *Store) JobQuery(ctx context.Context, p *storage.JobQueryParams) (*storage.JobQueryResult, error) {
	after, err := p.Validate()
	if err != nil {
		return nil, fmt.Errorf("memory: query jobs: %w", err)
	}
	m := newFilter(&p.Filter)
	want := p.QueryLimit() + 1
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("query jobs")
	}
	var out []*storage.Job
	visit := func(j *job) bool {
		if m.match(j) {
			out = append(out, j.clone())
		}
		return len(out) < want
	}
	if p.Order == storage.OrderOldest {
		s.jobs.each(after, visit)
	} else {
		before := s.lastID + 1
		if after > 0 {
			before = after
		}
		s.jobs.eachBefore(before, visit)
	}
	return p.Page(out), nil
}

// JobCount counts the stored jobs.
func (s *Store) JobCount(ctx context.Context, p *storage.JobCountParams) (*storage.JobCountResult, error) {
	type group struct {
		name string
		st   state
	}
	queues, kinds := make(map[group]int64), make(map[group]int64)
	ready := make(map[string]int64)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, closedError("count jobs")
	}
	now := clock(p.Now)
	s.jobs.each(0, func(j *job) bool {
		queues[group{j.lane.queue, j.state}]++
		kinds[group{j.lane.kind, j.state}]++
		if j.state == statePending && j.runAfter <= now {
			if at, ok := ready[j.lane.queue]; !ok || j.runAfter < at {
				ready[j.lane.queue] = j.runAfter
			}
		}
		return true
	})
	s.mu.Unlock()
	counts := func(m map[group]int64) []storage.GroupCount {
		out := make([]storage.GroupCount, 0, len(m))
		for g, n := range m {
			out = append(out, storage.GroupCount{Name: g.name, State: stateNames[g.st], Count: n})
		}
		slices.SortFunc(out, func(a, b storage.GroupCount) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.State, b.State))
		})
		return out
	}
	res := &storage.JobCountResult{Queues: counts(queues), Kinds: counts(kinds), Now: fromMicros(now)}
	for _, q := range slices.Sorted(maps.Keys(ready)) {
		res.Ready = append(res.Ready, storage.QueueAge{Queue: q, OldestReady: fromMicros(ready[q])})
	}
	return res, nil
}

// batch applies op to the jobs of b that match its filter and that
// applies says the operation applies to, in ID order, at most
// b.BatchLimit() of them; op reports whether it changed its job. It holds
// the lock.
func (s *Store) batch(what string, b *storage.JobBatch, applies func(*job) bool, op func(j *job, now int64) bool) (*storage.JobBatchResult, error) {
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("memory: %s: %w", what, err)
	}
	m := newFilter(&b.Filter)
	limit := b.BatchLimit()
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return nil, closedError(what)
	}
	now := clock(b.Now)
	var picked []*job
	s.jobs.each(b.AfterID, func(j *job) bool {
		if applies(j) && m.match(j) {
			picked = append(picked, j)
		}
		return len(picked) < limit
	})
	res := &storage.JobBatchResult{}
	for _, j := range picked {
		if op(j, now) {
			res.Changed++
		}
	}
	if len(picked) == limit {
		res.Next = picked[limit-1].id
	}
	return res, nil
}

// JobRetry returns failed and aborted jobs to pending.
func (s *Store) JobRetry(ctx context.Context, p *storage.JobRetryParams) (*storage.JobBatchResult, error) {
	retryable := func(j *job) bool { return j.state == stateFailed || j.state == stateAborted }
	return s.batch("retry jobs", &p.JobBatch, retryable, func(j *job, now int64) bool {
		uk := uniqueKey{j.lane.kind, j.uniqueKey}
		if j.uniqueKey != "" && s.unique[uk] != nil {
			return false
		}
		if j.uniqueKey != "" {
			s.unique[uk] = j
		}
		j.state = statePending
		j.attempt = 0
		j.output = nil
		j.finished = unset
		j.abortReq = unset
		j.runAfter = now
		if !p.RunAfter.IsZero() {
			j.runAfter = micros(p.RunAfter)
		}
		s.schedule(j, now)
		if s.bus != nil {
			s.noteInserted(j.lane.queue)
		}
		return true
	})
}

// JobDelete deletes finished jobs, and pending ones when asked.
func (s *Store) JobDelete(ctx context.Context, p *storage.JobDeleteParams) (*storage.JobBatchResult, error) {
	deletable := func(j *job) bool { return j.state >= stateCompleted || p.Pending && j.state == statePending }
	return s.batch("delete jobs", &p.JobBatch, deletable, func(j *job, now int64) bool {
		if j.state == statePending && j.uniqueKey != "" {
			uk := uniqueKey{j.lane.kind, j.uniqueKey}
			if s.unique[uk] == j {
				delete(s.unique, uk)
			}
		}
		s.remove(j)
		return true
	})
}

// JobAbortMany aborts pending jobs and asks running ones to abort.
func (s *Store) JobAbortMany(ctx context.Context, p *storage.JobAbortManyParams) (*storage.JobBatchResult, error) {
	abortable := func(j *job) bool {
		return j.state == statePending || j.state == stateRunning && j.abortReq == unset
	}
	return s.batch("abort jobs", &p.JobBatch, abortable, func(j *job, now int64) bool {
		if j.state == statePending {
			s.terminate(j, stateAborted, now, false)
		} else {
			j.abortReq = now
			if s.bus != nil {
				s.notes = append(s.notes, storage.Notification{Kind: storage.NotifyAbortRequested, JobID: j.id})
			}
		}
		return true
	})
}

// JobQuery lists jobs, as Store.JobQuery does.
func (p *Peer) JobQuery(ctx context.Context, ps *storage.JobQueryParams) (*storage.JobQueryResult, error) {
	if err := p.check("query jobs"); err != nil {
		return nil, err
	}
	return p.s.JobQuery(ctx, ps)
}

// JobCount counts jobs, as Store.JobCount does.
func (p *Peer) JobCount(ctx context.Context, ps *storage.JobCountParams) (*storage.JobCountResult, error) {
	if err := p.check("count jobs"); err != nil {
		return nil, err
	}
	return p.s.JobCount(ctx, ps)
}

// JobRetry retries jobs, as Store.JobRetry does.
func (p *Peer) JobRetry(ctx context.Context, ps *storage.JobRetryParams) (*storage.JobBatchResult, error) {
	if err := p.check("retry jobs"); err != nil {
		return nil, err
	}
	return p.s.JobRetry(ctx, ps)
}

// JobDelete deletes jobs, as Store.JobDelete does.
func (p *Peer) JobDelete(ctx context.Context, ps *storage.JobDeleteParams) (*storage.JobBatchResult, error) {
	if err := p.check("delete jobs"); err != nil {
		return nil, err
	}
	return p.s.JobDelete(ctx, ps)
}

// JobAbortMany aborts jobs, as Store.JobAbortMany does.
func (p *Peer) JobAbortMany(ctx context.Context, ps *storage.JobAbortManyParams) (*storage.JobBatchResult, error) {
	if err := p.check("abort jobs"); err != nil {
		return nil, err
	}
	return p.s.JobAbortMany(ctx, ps)
}
