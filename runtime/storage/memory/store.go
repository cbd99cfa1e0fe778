package memory

import (
	"bytes"
	"context"
	"fmt"
	"maps"
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

	jobs   index
	lanes  map[laneKey]*lane
	unique map[uniqueKey]*job
	// newest holds the latest-created kept job of each unique key,
	// whatever its state, for unique windows (see uniqueWindow).
	newest map[uniqueKey]*job
	// finished indexes the kept jobs of each terminal state by FinishedAt,
	// for JobDeleteFinished.
	finished [3]timeQueue
	// queues holds the queues ever paused.
	queues map[string]*queueState

	scratch []*lane // lanes of the claim in progress

	schedules map[string]*storage.Schedule // by name; made by the first ScheduleUpsert

	// bus, set by the first Peer, carries the notifications of the
	// changes to every peer's subscribers; notes holds those of the call
	// in progress until it lets go of mu (see unlock). Both are nil for a
	// store without peers, which pays one nil check per call.
	bus   *bus
	notes []storage.Notification
}

var (
	_ storage.Storage       = (*Store)(nil)
	_ storage.InsertClaimer = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		lanes:  make(map[laneKey]*lane),
		unique: make(map[uniqueKey]*job),
		queues: make(map[string]*queueState),
		newest: make(map[uniqueKey]*job),
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

// state is storage.State as a small integer.
type state uint8

const (
	statePending state = iota
	stateRunning
	stateCompleted
	stateFailed
	stateAborted
)

var stateNames = [...]storage.State{storage.StatePending, storage.StateRunning, storage.StateCompleted, storage.StateFailed, storage.StateAborted}

// job is the stored record. It is kept small and nearly free of pointers,
// since the garbage collector scans every stored job on every cycle: queue
// and kind live in the lane, times are micros, the state is a byte.
type job struct {
	id        int64
	lane      *lane
	input     []byte
	output    []byte
	errMsg    string
	errCode   string
	uniqueKey string
	metadata  map[string]string // nil when none
	token     int64
	priority  int
	attempt   int
	maxTries  int
	timeout   time.Duration

	runAfter  int64
	leaseExp  int64
	abortReq  int64
	deadline  int64
	created   int64
	attempted int64
	finished  int64

	state  state
	loc    loc
	ver    uint32 // bumped on every push to a lazily deleted heap
	runIdx int    // index in lane.running while loc == locRunning
}

// export writes the caller's copy of j to dst. Input and Output are shared:
// the store never writes into them after storing them. Metadata is copied,
// since a map invites writes.
func (j *job) export(dst *storage.Job) {
	*dst = storage.Job{
		ID:               j.id,
		Kind:             j.lane.kind,
		Queue:            j.lane.queue,
		Input:            j.input,
		Output:           j.output,
		State:            stateNames[j.state],
		Priority:         j.priority,
		Attempt:          j.attempt,
		MaxAttempts:      j.maxTries,
		RunAfter:         fromMicros(j.runAfter),
		LeaseToken:       j.token,
		LeaseExpiresAt:   fromMicros(j.leaseExp),
		AbortRequestedAt: fromMicros(j.abortReq),
		Deadline:         fromMicros(j.deadline),
		Timeout:          j.timeout,
		ErrorMessage:     j.errMsg,
		ErrorCode:        j.errCode,
		UniqueKey:        j.uniqueKey,
		Metadata:         maps.Clone(j.metadata),
		CreatedAt:        fromMicros(j.created),
		AttemptedAt:      fromMicros(j.attempted),
		FinishedAt:       fromMicros(j.finished),
	}
}

// claimed returns the caller's copy of the claim's view of j.
func (j *job) claimed() *storage.ClaimedJob {
	return &storage.ClaimedJob{
		ID:             j.id,
		Kind:           j.lane.kind,
		Queue:          j.lane.queue,
		Input:          j.input,
		Attempt:        j.attempt,
		MaxAttempts:    j.maxTries,
		LeaseToken:     j.token,
		LeaseExpiresAt: fromMicros(j.leaseExp),
		Deadline:       fromMicros(j.deadline),
		Timeout:        j.timeout,
		Metadata:       maps.Clone(j.metadata),
		CreatedAt:      fromMicros(j.created),
		RunAfter:       fromMicros(j.runAfter),
	}
}

// clone returns the caller's copy of j.
func (j *job) clone() *storage.Job {
	c := new(storage.Job)
	j.export(c)
	return c
}

type laneKey struct{ queue, kind string }

type uniqueKey struct{ kind, key string }

// lane holds the pending and running jobs of one queue and kind.
type lane struct {
	queue, kind string
	ready       readyQueue
	deferred    timeHeap
	running     runHeap
}

// clock returns the time of a call in micros: t, or the store's clock.
func clock(t time.Time) int64 {
	if t.IsZero() {
		return time.Now().UnixMicro()
	}
	return micros(t)
}

// after returns us plus d, saturating instead of overflowing.
func after(us int64, d time.Duration) int64 {
	s := us + d.Microseconds()
	if (d > 0 && s < us) || (d < 0 && s > us) {
		if d > 0 {
			return 1<<63 - 1
		}
		return unset + 1
	}
	return s
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
	out := new(struct {
		res storage.JobInsertResult
		job storage.Job
	})
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return nil, closedError("insert job")
	}
	j, dup := s.insert(p, clock(p.Now))
	if s.bus != nil && !dup {
		s.noteInserted(p.Queue)
	}
	j.export(&out.job)
	out.res = storage.JobInsertResult{Job: &out.job, Duplicate: dup}
	return &out.res, nil
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
	res := make([]storage.JobInsertResult, len(p.Jobs))
	jobs := make([]storage.Job, len(p.Jobs))
	out := make([]*storage.JobInsertResult, len(p.Jobs))
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return nil, closedError("insert jobs")
	}
	batchNow := clock(p.Now)
	for i, jp := range p.Jobs {
		t := batchNow
		if p.Now.IsZero() && !jp.Now.IsZero() {
			t = micros(jp.Now)
		}
		j, dup := s.insert(jp, t)
		if s.bus != nil && !dup {
			s.noteInserted(jp.Queue)
		}
		j.export(&jobs[i])
		res[i] = storage.JobInsertResult{Job: &jobs[i], Duplicate: dup}
		out[i] = &res[i]
	}
	return out, nil
}

func (s *Store) insert(p *storage.JobInsertParams, now int64) (*job, bool) {
	uk := uniqueKey{p.Kind, p.UniqueKey}
	if p.UniqueKey != "" {
		if j := s.unique[uk]; j != nil {
			return j, true
		}
		if j := s.uniqueWindow(uk, p.UniqueFor, now); j != nil {
			return j, true
		}
	}
	lk := laneKey{p.Queue, p.Kind}
	l := s.lanes[lk]
	if l == nil {
		l = &lane{queue: p.Queue, kind: p.Kind}
		s.lanes[lk] = l
	}
	runAfter := now
	if !p.RunAfter.IsZero() {
		runAfter = micros(p.RunAfter)
	}
	s.lastID++
	var md map[string]string
	if len(p.Metadata) > 0 {
		md = maps.Clone(p.Metadata)
	}
	j := &job{
		id:        s.lastID,
		lane:      l,
		input:     bytes.Clone(p.Input),
		uniqueKey: p.UniqueKey,
		metadata:  md,
		priority:  p.Priority,
		maxTries:  p.MaxAttempts,
		timeout:   p.Timeout,
		runAfter:  runAfter,
		leaseExp:  unset,
		abortReq:  unset,
		deadline:  micros(p.Deadline),
		created:   now,
		attempted: unset,
		finished:  unset,
		state:     statePending,
		runIdx:    -1,
	}
	s.jobs.add(j)
	if p.UniqueKey != "" {
		s.unique[uk] = j
		if n := s.newest[uk]; n == nil || n.created <= j.created {
			s.newest[uk] = j
		}
	}
	s.schedule(j, now)
	return j, false
}

// uniqueWindow returns the newest job holding key uk that was created
// within window before now, or nil; a zero window holds nothing.
func (s *Store) uniqueWindow(uk uniqueKey, window time.Duration, now int64) *job {
	if window <= 0 {
		return nil
	}
	if j := s.newest[uk]; j != nil && j.created > now-window.Microseconds() {
		return j
	}
	return nil
}

// schedule puts a pending job in its lane's ready queue or deferred heap.
func (s *Store) schedule(j *job, now int64) {
	j.ver++
	if j.runAfter <= now {
		j.loc = locReady
		j.lane.ready.push(readyEntry{prio: j.priority, at: j.runAfter, id: j.id, j: j, ver: j.ver})
		return
	}
	j.loc = locDeferred
	j.lane.deferred.push(timeEntry{at: j.runAfter, id: j.id, j: j, ver: j.ver})
}

// unlock lets go of s.mu and then hands the notifications of the call to
// the bus, so a peer never hears of a change before it can see it.
func (s *Store) unlock() {
	if s.bus == nil {
		s.mu.Unlock()
		return
	}
	notes := s.notes
	s.notes = nil
	s.mu.Unlock()
	s.bus.send(notes)
}

// noteInserted records that jobs became pending in queue, once per call.
func (s *Store) noteInserted(queue string) {
	for _, n := range s.notes {
		if n.Kind == storage.NotifyInserted && n.Queue == queue {
			return
		}
	}
	s.notes = append(s.notes, storage.Notification{Kind: storage.NotifyInserted, Queue: queue})
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
	defer s.unlock()
	if s.closed {
		return nil, closedError("claim jobs")
	}
	return s.claim(p), nil
}

// JobInsertClaim inserts i as JobInsert does and claims with c as JobClaim
// does, under one hold of the store's lock.
func (s *Store) JobInsertClaim(ctx context.Context, i *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error) {
	if err := i.Validate(); err != nil {
		return nil, nil, fmt.Errorf("memory: insert job: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, nil, fmt.Errorf("memory: claim jobs: %w", err)
	}
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return nil, nil, closedError("insert and claim")
	}
	j, dup := s.insert(i, clock(i.Now))
	res := &storage.JobInsertResult{Job: j.clone(), Duplicate: dup}
	cl := s.claim(c)
	if s.bus != nil && !dup && j.state == statePending {
		s.noteInserted(i.Queue) // the claim left it: others may claim it
	}
	return res, cl, nil
}

// claim is JobClaim with the lock held.
func (s *Store) claim(p *storage.JobClaimParams) *storage.JobClaimResult {
	now := clock(p.Now)
	if s.paused(p.Queue) {
		return &storage.JobClaimResult{Now: fromMicros(now)}
	}

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
		s.rescue(l, now)
		s.promote(l, now)
		avail += l.ready.len()
	}

	res := &storage.JobClaimResult{Now: fromMicros(now)}
	if n := min(p.Limit, avail); n > 0 {
		expires := after(now, p.LeaseDuration)
		// One allocation per job, not one for the batch: the runtime lets
		// go of each job when it finishes, and a batch of 100 would be a
		// large object, which the allocator serves more slowly.
		res.Jobs = make([]*storage.ClaimedJob, 0, n)
		for len(res.Jobs) < n {
			l := s.nextLane(lanes, now)
			if l == nil {
				break
			}
			j := l.ready.pop().j
			j.state = stateRunning
			j.attempt++
			s.lastToken++
			j.token = s.lastToken
			j.leaseExp = expires
			j.attempted = now
			j.loc = locRunning
			l.running.push(j)
			res.Jobs = append(res.Jobs, j.claimed())
		}
	}

	var next *timeEntry
	for _, l := range lanes {
		for len(l.deferred) > 0 {
			e := &l.deferred[0]
			if e.j.loc != locDeferred || e.ver != e.j.ver {
				l.deferred.pop()
				continue
			}
			if next == nil || e.less(next) {
				next = e
			}
			break
		}
	}
	if next != nil {
		res.NextRunAfter = fromMicros(next.at)
	}
	return res
}

// rescue takes the jobs of l whose lease has expired off the running heap:
// to the ready queue when they have attempts left, else to failed.
func (s *Store) rescue(l *lane, now int64) {
	for len(l.running) > 0 && l.running[0].leaseExp <= now {
		j := l.running.remove(0)
		if j.attempt >= j.maxTries {
			j.token = 0
			j.leaseExp = unset
			j.errCode = "lease_expired"
			j.errMsg = fmt.Sprintf("lease expired on attempt %d of %d: attempts used up", j.attempt, j.maxTries)
			s.terminate(j, stateFailed, now, false)
			continue
		}
		j.ver++
		j.loc = locReady
		l.ready.push(readyEntry{prio: j.priority, at: j.runAfter, id: j.id, j: j, ver: j.ver})
	}
}

// promote moves the deferred jobs of l that are due to the ready queue.
func (s *Store) promote(l *lane, now int64) {
	for len(l.deferred) > 0 && l.deferred[0].at <= now {
		e := l.deferred.pop()
		if e.j.loc == locDeferred && e.ver == e.j.ver {
			s.schedule(e.j, now)
		}
	}
}

// nextLane returns the lane whose ready queue holds the next job to claim,
// or nil when none is ready. It drops stale entries on the way.
func (s *Store) nextLane(lanes []*lane, now int64) *lane {
	if len(lanes) == 1 {
		if s.readyTop(lanes[0], now) == nil {
			return nil
		}
		return lanes[0]
	}
	var best *lane
	var bestTop *readyEntry
	for _, l := range lanes {
		if e := s.readyTop(l, now); e != nil && (best == nil || e.less(bestTop)) {
			best, bestTop = l, e
		}
	}
	return best
}

// readyTop returns the first live, ready entry of l's ready queue, or nil.
func (s *Store) readyTop(l *lane, now int64) *readyEntry {
	for {
		e := l.ready.top()
		if e == nil {
			return nil
		}
		j := e.j
		switch {
		case j.loc != locReady || e.ver != j.ver:
			l.ready.pop()
		case j.state == statePending && j.runAfter > now:
			// The caller's clock went back: the job is not due yet.
			l.ready.pop()
			s.schedule(j, now)
		case j.state == stateRunning && j.leaseExp > now:
			// The same for a rescue candidate: its lease holds again.
			l.ready.pop()
			j.loc = locRunning
			l.running.push(j)
		default:
			return e
		}
	}
}

// terminate moves j to a terminal state and frees its unique key; del drops
// it instead of keeping it.
func (s *Store) terminate(j *job, st state, now int64, del bool) {
	j.state = st
	j.finished = now
	if s.bus != nil {
		s.notes = append(s.notes, storage.Notification{Kind: storage.NotifyFinished, JobID: j.id})
	}
	j.loc = locNone
	if j.uniqueKey != "" {
		uk := uniqueKey{j.lane.kind, j.uniqueKey}
		if s.unique[uk] == j {
			delete(s.unique, uk)
		}
	}
	if del {
		s.remove(j)
		return
	}
	j.loc = locFinished
	s.finished[st-stateCompleted].push(timeEntry{at: now, id: j.id, j: j, ver: j.ver})
}

// remove forgets j.
func (s *Store) remove(j *job) {
	if j.uniqueKey != "" {
		uk := uniqueKey{j.lane.kind, j.uniqueKey}
		if s.newest[uk] == j {
			delete(s.newest, uk)
		}
	}
	s.jobs.del(j.id, s.lastID)
	j.loc = locNone
}

// unlease takes a running job out of the running index and clears its
// lease. A rescue candidate's entry in the ready queue just goes stale.
func (s *Store) unlease(j *job) {
	if j.loc == locRunning {
		j.lane.running.remove(j.runIdx)
	}
	j.loc = locNone
	j.token = 0
	j.leaseExp = unset
}

// held returns job id when it is running under token, else nil.
func (s *Store) held(id, token int64) *job {
	j := s.jobs.get(id)
	if j == nil || j.state != stateRunning || j.token != token {
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
	expires := after(clock(p.Now), p.LeaseDuration)
	res := &storage.JobHeartbeatResult{}
	for _, ls := range p.Leases {
		j := s.held(ls.ID, ls.Token)
		if j == nil {
			res.Lost = append(res.Lost, ls.ID)
			continue
		}
		j.leaseExp = expires
		switch j.loc {
		case locRunning:
			j.lane.running.fix(j.runIdx)
		case locReady:
			// The lease had expired and nobody has rescued the job yet:
			// its holder is alive after all.
			j.loc = locRunning
			j.lane.running.push(j)
		}
		if j.abortReq != unset {
			res.AbortRequested = append(res.AbortRequested, ls.ID)
		}
	}
	return res, nil
}

// JobAbortRequested returns those of p.IDs that are running with an abort
// request, in ascending order.
func (s *Store) JobAbortRequested(ctx context.Context, p *storage.JobAbortRequestedParams) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("abort requested")
	}
	var ids []int64
	for _, id := range p.IDs {
		if j := s.jobs.get(id); j != nil && j.state == stateRunning && j.abortReq != unset {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// JobFinish writes the outcomes of held jobs; a stale entry changes nothing.
func (s *Store) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("memory: finish jobs: %w", err)
	}
	res := &storage.JobFinishResult{Applied: make([]bool, len(p.Jobs))}
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return nil, closedError("finish jobs")
	}
	now := clock(p.Now)
	for i := range p.Jobs {
		f := &p.Jobs[i]
		if err := f.Validate(); err != nil {
			res.SetErr(i, fmt.Errorf("memory: finish jobs: %w", err))
			continue
		}
		j := s.held(f.ID, f.LeaseToken)
		if j == nil {
			continue
		}
		res.Applied[i] = true
		s.unlease(j)
		switch f.Outcome {
		case storage.OutcomeComplete:
			j.output = bytes.Clone(f.Output)
			j.errMsg, j.errCode = "", "" // an earlier attempt's error is not this job's
			s.terminate(j, stateCompleted, now, f.Delete)
		case storage.OutcomeFail:
			j.errMsg, j.errCode = f.ErrorMessage, f.ErrorCode
			s.terminate(j, stateFailed, now, f.Delete)
		case storage.OutcomeAbort:
			j.errMsg, j.errCode = f.ErrorMessage, f.ErrorCode
			s.terminate(j, stateAborted, now, f.Delete)
		case storage.OutcomeRetry:
			j.errMsg, j.errCode = f.ErrorMessage, f.ErrorCode
			j.state = statePending
			j.runAfter = after(now, f.RetryDelay)
			s.schedule(j, now)
			if s.bus != nil {
				s.noteInserted(j.lane.queue)
			}
		case storage.OutcomeRelease:
			j.state = statePending
			j.attempt--
			j.runAfter = after(now, f.RetryDelay)
			s.schedule(j, now)
			if s.bus != nil {
				s.noteInserted(j.lane.queue)
			}
		}
	}
	return res, nil
}

// JobAbort aborts a pending job at once, records an abort request on a
// running one and leaves a finished one alone.
func (s *Store) JobAbort(ctx context.Context, p *storage.JobAbortParams) (*storage.JobAbortResult, error) {
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return nil, closedError("abort job")
	}
	j := s.jobs.get(p.ID)
	if j == nil {
		return nil, fmt.Errorf("memory: abort job %d: %w", p.ID, storage.ErrNotFound)
	}
	now := clock(p.Now)
	res := &storage.JobAbortResult{}
	switch j.state {
	case statePending:
		s.terminate(j, stateAborted, now, false)
		res.Result = storage.AbortedNow
	case stateRunning:
		if j.abortReq == unset {
			j.abortReq = now
		}
		if s.bus != nil {
			s.notes = append(s.notes, storage.Notification{Kind: storage.NotifyAbortRequested, JobID: j.id})
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
	j := s.jobs.get(p.ID)
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
	var out []*storage.Job
	s.jobs.each(p.AfterID, func(j *job) bool {
		if (p.Queue == "" || j.lane.queue == p.Queue) &&
			(p.Kind == "" || j.lane.kind == p.Kind) &&
			(len(p.States) == 0 || slices.Contains(p.States, stateNames[j.state])) {
			out = append(out, j.clone())
		}
		return len(out) < limit
	})
	return out, nil
}

// JobDeleteFinished deletes up to p.Limit jobs in state p.State that
// finished before p.FinishedBefore, oldest first.
func (s *Store) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	if err := p.Validate(); err != nil {
		return 0, fmt.Errorf("memory: delete finished jobs: %w", err)
	}
	limit := p.DeleteLimit()
	before := micros(p.FinishedBefore)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, closedError("delete finished jobs")
	}
	var q *timeQueue
	switch p.State {
	case storage.StateCompleted:
		q = &s.finished[stateCompleted-stateCompleted]
	case storage.StateFailed:
		q = &s.finished[stateFailed-stateCompleted]
	default:
		q = &s.finished[stateAborted-stateCompleted]
	}
	n := 0
	for n < limit && q.len() > 0 && q.top().at < before {
		if e := q.pop(); e.j.loc == locFinished && e.ver == e.j.ver { // else retried or deleted since
			s.remove(e.j)
			n++
		}
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
	s.jobs, s.lanes, s.unique, s.queues, s.newest = index{}, nil, nil, nil, nil
	s.schedules = nil
	s.finished = [3]timeQueue{}
	s.scratch = nil
	return nil
}
