package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Store is an in-memory storage.Storage. The zero value is not usable; call
// New. A Store is safe for concurrent use by many goroutines.
type Store struct {
	mu     sync.Mutex
	closed bool

	lastID    int64
	lastToken int64

	jobs   map[int64]*job
	lanes  map[laneKey]*lane
	unique map[uniqueKey]*job
	// finished indexes the kept jobs of each terminal state by FinishedAt,
	// for JobDeleteFinished.
	finished [3]timeHeap
	// order lists jobs by ascending ID for JobList. Deleted jobs stay in it,
	// marked, until dead of them pile up and it is compacted.
	order []*job
	dead  int

	scratch []*lane // lanes of the claim in progress
}

var _ storage.Storage = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		jobs:   make(map[int64]*job),
		lanes:  make(map[laneKey]*lane),
		unique: make(map[uniqueKey]*job),
	}
}

// loc says which index holds a job.
type loc uint8

const (
	locNone     loc = iota
	locReady        // lane.ready: pending and ready, or running with an expired lease
	locDeferred     // lane.deferred: pending with RunAfter in the future
	locRunning      // lane.running: running under its lease
	locFinished     // Store.finished: terminal and kept
)

// job is the stored record plus its index bookkeeping.
type job struct {
	storage.Job

	lane     *lane
	loc      loc
	ver      uint32 // bumped on every push to a lazily deleted heap
	runIdx   int    // index in lane.running while loc == locRunning
	runAt    int64  // timeKey(RunAfter)
	leaseExp int64  // timeKey(LeaseExpiresAt)
	deleted  bool
}

// clone copies the record for a caller. Input and Output are shared: the
// store never writes into them after storing them.
func (j *job) clone() *storage.Job {
	c := j.Job
	return &c
}

type laneKey struct{ queue, kind string }

type uniqueKey struct{ kind, key string }

// lane holds the pending and running jobs of one queue and kind.
type lane struct {
	ready    readyHeap
	deferred timeHeap
	running  runHeap
}

func (s *Store) now(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t
}

func closedError(op string) error {
	return fmt.Errorf("memory: %s: %w", op, storage.ErrClosed)
}

// JobInsert inserts one pending job, or returns the active job of the same
// kind that holds p.UniqueKey.
func (s *Store) JobInsert(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("memory: insert job: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("insert job")
	}
	now := s.now(p.Now)
	j, dup := s.insert(p, now, timeKey(now))
	return &storage.JobInsertResult{Job: j.clone(), Duplicate: dup}, nil
}

// JobInsertMany inserts all of p.Jobs or, when one is invalid, none of them.
// Unique keys are checked against stored jobs and against earlier entries of
// the batch. The clock is p.Now, else each entry's Now, else the store's.
func (s *Store) JobInsertMany(ctx context.Context, p *storage.JobInsertManyParams) ([]*storage.JobInsertResult, error) {
	for i, jp := range p.Jobs {
		if err := jp.Validate(); err != nil {
			return nil, fmt.Errorf("memory: insert job %d of %d: %w", i, len(p.Jobs), err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("insert jobs")
	}
	batchNow := p.Now
	if batchNow.IsZero() {
		batchNow = time.Now().UTC()
	}
	batchKey := timeKey(batchNow)
	res := make([]storage.JobInsertResult, len(p.Jobs))
	out := make([]*storage.JobInsertResult, len(p.Jobs))
	for i, jp := range p.Jobs {
		now, nowKey := batchNow, batchKey
		if p.Now.IsZero() && !jp.Now.IsZero() {
			now, nowKey = jp.Now, timeKey(jp.Now)
		}
		j, dup := s.insert(jp, now, nowKey)
		res[i] = storage.JobInsertResult{Job: j.clone(), Duplicate: dup}
		out[i] = &res[i]
	}
	return out, nil
}

func (s *Store) insert(p *storage.JobInsertParams, now time.Time, nowKey int64) (*job, bool) {
	uk := uniqueKey{p.Kind, p.UniqueKey}
	if p.UniqueKey != "" {
		if j := s.unique[uk]; j != nil {
			return j, true
		}
	}
	runAfter := p.RunAfter
	if runAfter.IsZero() {
		runAfter = now
	}
	s.lastID++
	j := &job{
		Job: storage.Job{
			ID:          s.lastID,
			Kind:        p.Kind,
			Queue:       p.Queue,
			Input:       bytes.Clone(p.Input),
			State:       storage.StatePending,
			Priority:    p.Priority,
			MaxAttempts: p.MaxAttempts,
			RunAfter:    runAfter,
			Deadline:    p.Deadline,
			Timeout:     p.Timeout,
			UniqueKey:   p.UniqueKey,
			CreatedAt:   now,
		},
		runIdx: -1,
		runAt:  timeKey(runAfter),
	}
	lk := laneKey{p.Queue, p.Kind}
	l := s.lanes[lk]
	if l == nil {
		l = new(lane)
		s.lanes[lk] = l
	}
	j.lane = l
	s.jobs[j.ID] = j
	s.order = append(s.order, j)
	if p.UniqueKey != "" {
		s.unique[uk] = j
	}
	s.schedule(j, nowKey)
	return j, false
}

// schedule puts a pending job in its lane's ready or deferred heap.
func (s *Store) schedule(j *job, nowKey int64) {
	j.ver++
	if j.runAt <= nowKey {
		j.loc = locReady
		j.lane.ready.push(readyEntry{prio: j.Priority, at: j.runAt, id: j.ID, j: j, ver: j.ver})
		return
	}
	j.loc = locDeferred
	j.lane.deferred.push(timeEntry{at: j.runAt, id: j.ID, j: j, ver: j.ver})
}

// JobClaim claims up to p.Limit ready jobs of p.Queue and p.Kinds. Before
// claiming it rescues the jobs of those kinds whose lease has expired: each
// becomes claimable again, or failed with error code "lease_expired" when it
// has used all its attempts.
func (s *Store) JobClaim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("memory: claim jobs: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("claim jobs")
	}
	now := s.now(p.Now)
	nowKey := timeKey(now)

	lanes := s.scratch[:0]
	for _, k := range p.Kinds {
		if l := s.lanes[laneKey{p.Queue, k}]; l != nil && !slices.Contains(lanes, l) {
			lanes = append(lanes, l)
		}
	}
	s.scratch = lanes
	defer clear(lanes)

	avail := 0
	for _, l := range lanes {
		s.rescue(l, now, nowKey)
		s.promote(l, nowKey)
		avail += len(l.ready)
	}

	res := &storage.JobClaimResult{Now: now}
	if n := min(p.Limit, avail); n > 0 {
		expires := now.Add(p.LeaseDuration)
		expKey := timeKey(expires)
		buf := make([]storage.Job, 0, n)
		for len(buf) < p.Limit {
			l := s.nextLane(lanes, nowKey)
			if l == nil {
				break
			}
			j := l.ready.pop().j
			j.State = storage.StateRunning
			j.Attempt++
			s.lastToken++
			j.LeaseToken = s.lastToken
			j.LeaseExpiresAt = expires
			j.leaseExp = expKey
			j.AttemptedAt = now
			j.loc = locRunning
			l.running.push(j)
			buf = append(buf, j.Job)
		}
		res.Jobs = make([]*storage.Job, len(buf))
		for i := range buf {
			res.Jobs[i] = &buf[i]
		}
	}

	var next *job
	for _, l := range lanes {
		for len(l.deferred) > 0 {
			e := &l.deferred[0]
			if e.j.loc != locDeferred || e.ver != e.j.ver {
				l.deferred.pop()
				continue
			}
			if next == nil || e.at < next.runAt || e.at == next.runAt && e.id < next.ID {
				next = e.j
			}
			break
		}
	}
	if next != nil {
		res.NextRunAfter = next.RunAfter
	}
	return res, nil
}

// rescue takes the jobs of l whose lease has expired off the running heap:
// to the ready heap when they have attempts left, else to failed.
func (s *Store) rescue(l *lane, now time.Time, nowKey int64) {
	for len(l.running) > 0 && l.running[0].leaseExp <= nowKey {
		j := l.running.remove(0)
		if j.Attempt >= j.MaxAttempts {
			j.LeaseToken = 0
			j.LeaseExpiresAt = time.Time{}
			j.ErrorCode = "lease_expired"
			j.ErrorMessage = fmt.Sprintf("lease expired on attempt %d of %d: attempts used up", j.Attempt, j.MaxAttempts)
			s.terminate(j, storage.StateFailed, now, false)
			continue
		}
		j.ver++
		j.loc = locReady
		l.ready.push(readyEntry{prio: j.Priority, at: j.runAt, id: j.ID, j: j, ver: j.ver})
	}
}

// promote moves the deferred jobs of l that are due to the ready heap.
func (s *Store) promote(l *lane, nowKey int64) {
	for len(l.deferred) > 0 && l.deferred[0].at <= nowKey {
		e := l.deferred.pop()
		if e.j.loc == locDeferred && e.ver == e.j.ver {
			s.schedule(e.j, nowKey)
		}
	}
}

// nextLane returns the lane whose ready heap holds the next job to claim,
// or nil when none is ready. It drops stale entries on the way.
func (s *Store) nextLane(lanes []*lane, nowKey int64) *lane {
	var best *lane
	var bestTop *readyEntry
	for _, l := range lanes {
		if e := s.readyTop(l, nowKey); e != nil && (best == nil || e.less(bestTop)) {
			best, bestTop = l, e
		}
	}
	return best
}

// readyTop returns the first live, ready entry of l's ready heap, or nil.
func (s *Store) readyTop(l *lane, nowKey int64) *readyEntry {
	for len(l.ready) > 0 {
		e := &l.ready[0]
		j := e.j
		switch {
		case j.loc != locReady || e.ver != j.ver:
			l.ready.pop()
		case j.State == storage.StatePending && j.runAt > nowKey:
			// The caller's clock went back: the job is not due yet.
			l.ready.pop()
			s.schedule(j, nowKey)
		case j.State == storage.StateRunning && j.leaseExp > nowKey:
			// The same for a rescue candidate: its lease holds again.
			l.ready.pop()
			j.loc = locRunning
			l.running.push(j)
		default:
			return e
		}
	}
	return nil
}

// terminate moves j to a terminal state and frees its unique key; del drops
// it instead of keeping it.
func (s *Store) terminate(j *job, st storage.State, now time.Time, del bool) {
	j.State = st
	j.FinishedAt = now
	j.loc = locNone
	if j.UniqueKey != "" {
		uk := uniqueKey{j.Kind, j.UniqueKey}
		if s.unique[uk] == j {
			delete(s.unique, uk)
		}
	}
	if del {
		s.remove(j)
		return
	}
	j.loc = locFinished
	s.finished[finishedIndex(st)].push(timeEntry{at: timeKey(now), id: j.ID, j: j})
}

func finishedIndex(st storage.State) int {
	switch st {
	case storage.StateCompleted:
		return 0
	case storage.StateFailed:
		return 1
	}
	return 2
}

// remove forgets j. Its slot in s.order is reclaimed later.
func (s *Store) remove(j *job) {
	delete(s.jobs, j.ID)
	j.deleted = true
	j.loc = locNone
	s.dead++
	if s.dead > 1024 && s.dead > len(s.order)/2 {
		s.order = slices.DeleteFunc(s.order, func(j *job) bool { return j.deleted })
		s.order = shrink(s.order)
		s.dead = 0
	}
}

// unlease takes a running job out of the running index and clears its lease.
func (s *Store) unlease(j *job) {
	switch j.loc {
	case locRunning:
		j.lane.running.remove(j.runIdx)
	case locReady:
		// A rescue candidate: its heap entry goes stale.
	}
	j.loc = locNone
	j.LeaseToken = 0
	j.LeaseExpiresAt = time.Time{}
}

// held returns the job id when it is running under token, else nil.
func (s *Store) held(id, token int64) *job {
	j := s.jobs[id]
	if j == nil || j.State != storage.StateRunning || j.LeaseToken != token {
		return nil
	}
	return j
}

// JobHeartbeat extends the leases still held with the given tokens, and
// reports the lost ones and the held jobs with an abort request.
func (s *Store) JobHeartbeat(ctx context.Context, p *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("memory: heartbeat: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("heartbeat")
	}
	now := s.now(p.Now)
	expires := now.Add(p.LeaseDuration)
	expKey := timeKey(expires)
	res := &storage.JobHeartbeatResult{}
	for _, ls := range p.Leases {
		j := s.held(ls.ID, ls.Token)
		if j == nil {
			res.Lost = append(res.Lost, ls.ID)
			continue
		}
		j.LeaseExpiresAt = expires
		j.leaseExp = expKey
		switch j.loc {
		case locRunning:
			j.lane.running.fix(j.runIdx)
		case locReady:
			// The lease had expired and nobody has rescued the job yet:
			// its holder is alive after all.
			j.loc = locRunning
			j.lane.running.push(j)
		}
		if !j.AbortRequestedAt.IsZero() {
			res.AbortRequested = append(res.AbortRequested, ls.ID)
		}
	}
	return res, nil
}

// JobFinish writes the outcomes of held jobs; a stale entry changes nothing.
func (s *Store) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("memory: finish jobs: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("finish jobs")
	}
	now := s.now(p.Now)
	nowKey := timeKey(now)
	res := &storage.JobFinishResult{Applied: make([]bool, len(p.Jobs))}
	for i := range p.Jobs {
		f := &p.Jobs[i]
		j := s.held(f.ID, f.LeaseToken)
		if j == nil {
			continue
		}
		res.Applied[i] = true
		s.unlease(j)
		switch f.Outcome {
		case storage.OutcomeComplete:
			j.Output = bytes.Clone(f.Output)
			s.terminate(j, storage.StateCompleted, now, f.Delete)
		case storage.OutcomeFail, storage.OutcomeAbort:
			j.ErrorMessage, j.ErrorCode = f.ErrorMessage, f.ErrorCode
			s.terminate(j, f.Outcome.State(), now, f.Delete)
		case storage.OutcomeRetry:
			j.ErrorMessage, j.ErrorCode = f.ErrorMessage, f.ErrorCode
			j.State = storage.StatePending
			j.RunAfter = now.Add(f.RetryDelay)
			j.runAt = timeKey(j.RunAfter)
			s.schedule(j, nowKey)
		case storage.OutcomeRelease:
			j.State = storage.StatePending
			j.Attempt--
			j.RunAfter = now
			j.runAt = nowKey
			s.schedule(j, nowKey)
		}
	}
	return res, nil
}

// JobAbort aborts a pending job at once, records an abort request on a
// running one and leaves a finished one alone.
func (s *Store) JobAbort(ctx context.Context, p *storage.JobAbortParams) (*storage.JobAbortResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("abort job")
	}
	j := s.jobs[p.ID]
	if j == nil {
		return nil, fmt.Errorf("memory: abort job %d: %w", p.ID, storage.ErrNotFound)
	}
	now := s.now(p.Now)
	res := &storage.JobAbortResult{}
	switch j.State {
	case storage.StatePending:
		s.terminate(j, storage.StateAborted, now, false)
		res.Result = storage.AbortedNow
	case storage.StateRunning:
		if j.AbortRequestedAt.IsZero() {
			j.AbortRequestedAt = now
		}
		res.Result = storage.AbortRequested
	default:
		res.Result = storage.AbortTooLate
	}
	res.Job = j.clone()
	return res, nil
}

// JobGet returns a copy of one job.
func (s *Store) JobGet(ctx context.Context, p *storage.JobGetParams) (*storage.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("get job")
	}
	j := s.jobs[p.ID]
	if j == nil {
		return nil, fmt.Errorf("memory: get job %d: %w", p.ID, storage.ErrNotFound)
	}
	return j.clone(), nil
}

// JobList returns copies of the jobs matching p in ascending ID order.
func (s *Store) JobList(ctx context.Context, p *storage.JobListParams) ([]*storage.Job, error) {
	limit := p.ListLimit()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("list jobs")
	}
	i, _ := slices.BinarySearchFunc(s.order, p.AfterID+1, func(j *job, id int64) int {
		return cmpInt(j.ID, id)
	})
	var out []*storage.Job
	for ; i < len(s.order) && len(out) < limit; i++ {
		j := s.order[i]
		if j.deleted ||
			p.Queue != "" && j.Queue != p.Queue ||
			p.Kind != "" && j.Kind != p.Kind ||
			len(p.States) > 0 && !slices.Contains(p.States, j.State) {
			continue
		}
		out = append(out, j.clone())
	}
	return out, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// JobDeleteFinished deletes up to p.Limit jobs in state p.State that
// finished before p.FinishedBefore, oldest first.
func (s *Store) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	if err := p.Validate(); err != nil {
		return 0, fmt.Errorf("memory: delete finished jobs: %w", err)
	}
	limit := p.DeleteLimit()
	before := timeKey(p.FinishedBefore)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, closedError("delete finished jobs")
	}
	h := &s.finished[finishedIndex(p.State)]
	n := 0
	for n < limit && len(*h) > 0 && (*h)[0].at < before {
		s.remove(h.pop().j)
		n++
	}
	return n, nil
}

// Close drops every job. Later calls of any other method return an error
// matching storage.ErrClosed; Close itself may be called again and returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.jobs, s.lanes, s.unique = nil, nil, nil
	s.finished = [3]timeHeap{}
	s.order, s.scratch = nil, nil
	return nil
}
