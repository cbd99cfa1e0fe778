package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jobgen/jobgen/runtime/limit"
	"github.com/jobgen/jobgen/runtime/storage"
)

// runFunc runs one claimed job and returns its encoded output.
type runFunc func(ctx context.Context, job *storage.ClaimedJob, report progressReporter) ([]byte, error)

// registeredKind is a kind this server has a handler for.
type registeredKind struct {
	opts *KindOpts
	run  runFunc
}

// Server works the queues of one storage: per queue a fetch loop claims up
// to the number of free slots in one storage call and runs each job on its
// own goroutine. It renews the leases of its running jobs, writes their
// outcomes in batches, and drains on Stop. Create it with NewServer,
// register handlers (the generated Register does it), then Start it. A
// stopped server stays stopped.
type Server struct {
	store    storage.Storage
	notifier storage.Notifier // nil when the backend has no notifications
	cfg      Config
	logger   *slog.Logger
	hub      *hub
	client   *Client
	fin      *finisher

	mu      sync.Mutex
	kinds   map[string]*registeredKind
	running map[int64]*runningJob
	started bool

	kindNames []string          // sorted; fixed at Start
	queues    map[string]*queue // fixed at Start
	jobBase   context.Context   // parent of job contexts
	closing   atomic.Bool       // Stop has begun

	stopOnce   sync.Once
	cancelOnce sync.Once
	stopCh     chan struct{} // closed when Stop begins: loops stop claiming
	cancelCh   chan struct{} // closed to cut the drain wait short
	stuckCh    chan struct{} // closed when jobs outlived the grace after cancel
	doneCh     chan struct{} // closed when everything has stopped
	stuckErr   error
	// stuckReported: a Stop returned stuckErr; later calls wait for the rest.
	stuckReported atomic.Bool

	loops sync.WaitGroup // fetch loops
	// submitting counts the attached client's submits in flight (see
	// Server.submit).
	submitting atomic.Int32
	jobs       sync.WaitGroup // jobs from claim until their outcome is written
	maint      sync.WaitGroup // heartbeat, sweep, subscription, progress publisher
	workers    sync.WaitGroup // worker goroutines, stopped with maintenance
	maintStop  chan struct{}
	beat       chan struct{} // asks the heartbeat for an early round
	progressCh chan storage.Notification
}

// queue is one queue the server works.
type queue struct {
	name       string
	maxWorkers int
	limiter    limit.Limiter
	inflight   atomic.Int64
	wake       chan struct{} // capacity 1: a wake-up is latched until the loop waits
	freed      chan struct{} // capacity 1: a slot was freed
	work       *workQueue    // hands started jobs to the workers
}

func (q *queue) wakeUp() { latch(q.wake) }

// reserve takes up to want of q's free slots for jobs about to be claimed
// and returns how many it took. Every claim reserves first, so the fetch
// loop and a submit that claims (Server.submit) never start more jobs
// than q has slots.
func (q *queue) reserve(want int) int {
	for {
		cur := q.inflight.Load()
		n := min(int64(want), int64(q.maxWorkers)-cur)
		if n <= 0 {
			return 0
		}
		if q.inflight.CompareAndSwap(cur, cur+n) {
			return int(n)
		}
	}
}

// unreserve gives back n reserved slots that no claimed job took.
func (q *queue) unreserve(n int) {
	if n > 0 {
		q.inflight.Add(int64(-n))
	}
}

// slotFreed gives a finished job's slot back. It wakes the loop only when
// the queue stops being full, when half its slots are free and when it
// empties: the loop waits for a freed slot only while the queue is full,
// and then gathers more freed slots before it claims (see coalesce), so a
// wake-up per finished job would only cost a goroutine switch each.
func (q *queue) slotFreed() {
	n := int(q.inflight.Add(-1))
	if n == q.maxWorkers-1 || n == q.maxWorkers/2 || n == 0 {
		latch(q.freed)
	}
}

// coalesce reports whether fewer than half of q's slots are free while jobs
// run, so a claim now would be small.
func (q *queue) coalesce() bool {
	inflight := int(q.inflight.Load())
	return inflight > 0 && q.maxWorkers-inflight < q.maxWorkers/2
}

// latch records a wake-up in a channel of capacity 1 without blocking.
func latch(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// NewServer returns a server over store. It validates cfg and fills its
// defaults.
func NewServer(store storage.Storage, cfg Config) (*Server, error) {
	if store == nil {
		return nil, fmt.Errorf("new server: %w: nil storage", ErrInvalidOption)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s := &Server{
		store:     store,
		cfg:       cfg,
		logger:    cfg.Logger,
		hub:       newHub(cfg.Logger),
		kinds:     make(map[string]*registeredKind),
		running:   make(map[int64]*runningJob),
		stopCh:    make(chan struct{}),
		cancelCh:  make(chan struct{}),
		stuckCh:   make(chan struct{}),
		doneCh:    make(chan struct{}),
		maintStop: make(chan struct{}),
		beat:      make(chan struct{}, 1),
	}
	s.notifier, _ = store.(storage.Notifier)
	s.client = &Client{
		store:        store,
		srv:          s,
		hub:          s.hub,
		maxPayload:   cfg.MaxPayloadBytes,
		pollInterval: cfg.PollInterval,
		logger:       cfg.Logger,
	}
	s.fin = newFinisher(s)
	return s, nil
}

// Client returns the client attached to s: its submits wake s's fetch loops
// directly, its aborts of jobs running in s cancel them without a storage
// write, and its waits resolve from memory for jobs s runs.
func (s *Server) Client() *Client { return s.client }

func (s *Server) register(k *KindOpts, run runFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closing.Load() {
		return fmt.Errorf("register %s: server already started", k.Name)
	}
	if _, dup := s.kinds[k.Name]; dup {
		return fmt.Errorf("register %s: kind already registered", k.Name)
	}
	s.kinds[k.Name] = &registeredKind{opts: k, run: run}
	return nil
}

// Start starts the fetch loops and the server's maintenance. ctx is the
// parent of every job context (its values reach handlers); cancelling it
// stops the server as StopAndCancel does.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing.Load():
		return ErrServerClosed
	case s.started:
		return errors.New("runtime: server already started")
	case len(s.kinds) == 0:
		return errors.New("runtime: start: no handlers registered")
	}
	queues, err := s.buildQueues()
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	s.started = true
	s.queues = queues
	for name := range s.kinds {
		s.kindNames = append(s.kindNames, name)
	}
	sort.Strings(s.kindNames)
	s.jobBase = context.WithoutCancel(ctx)

	go s.fin.run()
	s.startMaintenance()
	for _, q := range queues {
		s.loops.Add(1)
		go s.fetchLoop(q)
	}
	context.AfterFunc(ctx, func() {
		s.cancelOnce.Do(func() { close(s.cancelCh) })
		s.beginStop()
	})
	s.logger.Debug("jobgen: server started", "queues", len(queues), "kinds", len(s.kindNames))
	return nil
}

func (s *Server) buildQueues() (map[string]*queue, error) {
	cfgs := s.cfg.Queues
	if len(cfgs) == 0 {
		cfgs = make(map[string]QueueConfig)
		for _, k := range s.kinds {
			cfgs[k.opts.Queue] = QueueConfig{}
		}
	}
	queues := make(map[string]*queue, len(cfgs))
	for name, qc := range cfgs {
		if qc.MaxWorkers == 0 {
			qc.MaxWorkers = DefaultMaxWorkers
		}
		queues[name] = &queue{name: name, maxWorkers: qc.MaxWorkers, limiter: qc.Limiter, wake: make(chan struct{}, 1), freed: make(chan struct{}, 1), work: newWorkQueue()}
	}
	return queues, nil
}

// Running returns how many claimed jobs the server holds: running, or
// waiting for their outcome to be written.
func (s *Server) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.running)
}

// closed reports whether Stop has begun; an attached client then refuses to submit.
func (s *Server) closed() bool { return s.closing.Load() }

// wakeQueue wakes the fetch loop of queue name, if s works it.
func (s *Server) wakeQueue(name string) {
	if q := s.queue(name); q != nil {
		q.wakeUp()
	}
}

func (s *Server) queue(name string) *queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queues[name]
}

// Stop stops claiming, waits for running jobs up to Config.StopTimeout,
// then cancels what is left with cause ErrStopped and waits briefly for it.
// Jobs cut off go back to pending without using an attempt. If ctx ends
// first, Stop cuts the drain short and returns ctx.Err(); calling it again
// waits for the rest. It returns an error naming the jobs whose handlers
// did not return after being cancelled; a later call waits for them.
func (s *Server) Stop(ctx context.Context) error {
	s.beginStop()
	select {
	case <-s.doneCh:
		return nil
	default:
	}
	stuck := s.stuckCh
	if s.stuckReported.Load() {
		stuck = nil // reported once: now wait for the rest
	}
	select {
	case <-s.doneCh:
		return nil
	case <-stuck:
		select {
		case <-s.doneCh: // the stuck handlers have returned since
			return nil
		default:
			s.stuckReported.Store(true)
			return s.stuckErr
		}
	case <-ctx.Done():
		s.cancelOnce.Do(func() { close(s.cancelCh) })
		return ctx.Err()
	}
}

// StopAndCancel stops the server like Stop but cancels running jobs at once
// instead of waiting for them to finish.
func (s *Server) StopAndCancel(ctx context.Context) error {
	s.cancelOnce.Do(func() { close(s.cancelCh) })
	return s.Stop(ctx)
}

func (s *Server) beginStop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.closing.Store(true)
		started := s.started
		s.mu.Unlock()
		close(s.stopCh)
		if !started {
			close(s.doneCh)
			return
		}
		go s.shutdown()
	})
}

// shutdown runs once per server, in the background of Stop.
func (s *Server) shutdown() {
	s.loops.Wait()
	idle := make(chan struct{})
	go func() {
		s.jobs.Wait()
		close(idle)
	}()
	if s.cfg.StopTimeout > 0 {
		drain := time.NewTimer(s.cfg.StopTimeout)
		select {
		case <-idle:
		case <-drain.C:
		case <-s.cancelCh:
		}
		drain.Stop()
	}
	s.cancelRunning(ErrStopped)
	grace := time.NewTimer(stopGrace)
	select {
	case <-idle:
	case <-grace.C:
		s.stuckErr = s.stuckError()
		close(s.stuckCh)
		<-idle
	}
	grace.Stop()
	s.fin.close()
	for _, q := range s.queues {
		q.work.close() // every job is done: no dispatch can follow
	}
	s.workers.Wait()
	close(s.maintStop)
	s.maint.Wait()
	s.logger.Debug("jobgen: server stopped")
	close(s.doneCh)
}

func (s *Server) cancelRunning(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rj := range s.running {
		rj.cancel(cause)
	}
}

func (s *Server) stuckError() error {
	s.mu.Lock()
	ids := make([]int64, 0, len(s.running))
	for id := range s.running {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	slices.Sort(ids)
	return fmt.Errorf("runtime: stop: %d job(s) still running after cancel %v: their handlers ignore ctx; they are released when they return", len(ids), ids)
}

// abortLocal cancels job id when it runs in this server. It reports whether
// the abort was handled here. When the job's handler has already returned,
// it waits until the outcome is written and leaves the answer to storage.
func (s *Server) abortLocal(ctx context.Context, id int64) (bool, error) {
	s.mu.Lock()
	rj := s.running[id]
	s.mu.Unlock()
	if rj == nil {
		return false, nil
	}
	if rj.requestAbort() {
		return true, nil
	}
	select {
	case <-rj.waitWritten():
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// startMaintenance starts the heartbeat, the retention sweep (only when a
// TTL is positive) and the storage subscription (only on backends with
// notifications).
func (s *Server) startMaintenance() {
	s.maint.Add(1)
	go s.heartbeatLoop()
	if s.cfg.Retention.anyPositive() {
		s.maint.Add(1)
		go s.sweepLoop()
	}
	if s.notifier != nil {
		ctx, cancel := context.WithCancel(context.Background())
		ch, err := s.notifier.Subscribe(ctx)
		if err != nil {
			cancel()
			s.logger.Warn("jobgen: storage subscription failed; relying on polling", "err", err)
		} else {
			s.maint.Add(1)
			go s.subscriptionLoop(ch, cancel)
		}
		s.progressCh = make(chan storage.Notification, 256)
		s.maint.Add(1)
		go s.progressPublisher()
	}
}

// heartbeatLoop renews the leases of running jobs every third of the lease
// duration, in one storage call per round, and only while jobs run.
func (s *Server) heartbeatLoop() {
	defer s.maint.Done()
	ticker := time.NewTicker(s.cfg.LeaseDuration / 3)
	defer ticker.Stop()
	for {
		select {
		case <-s.maintStop:
			return
		case <-ticker.C:
		case <-s.beat:
		}
		s.heartbeat()
	}
}

func (s *Server) heartbeat() {
	s.mu.Lock()
	if len(s.running) == 0 {
		s.mu.Unlock()
		return
	}
	leases := make([]storage.Lease, 0, len(s.running))
	for id, rj := range s.running {
		leases = append(leases, storage.Lease{ID: id, Token: rj.rec.LeaseToken})
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LeaseDuration)
	defer cancel()
	res, err := s.store.JobHeartbeat(ctx, &storage.JobHeartbeatParams{Leases: leases, LeaseDuration: s.cfg.LeaseDuration})
	if err != nil {
		s.logger.Error("jobgen: heartbeat failed", "jobs", len(leases), "err", err)
		return
	}
	for _, id := range res.Lost {
		if rj := s.runningJob(id); rj != nil {
			s.logger.Warn("jobgen: lease lost; cancelling the job, its outcome will not be written", "job_id", id, "kind", rj.rec.Kind)
			rj.lost.Store(true)
			rj.cancel(ErrLeaseLost)
		}
	}
	for _, id := range res.AbortRequested {
		if rj := s.runningJob(id); rj != nil {
			rj.requestAbort()
		}
	}
}

func (s *Server) runningJob(id int64) *runningJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[id]
}

// sweepLoop deletes finished jobs older than their retention TTL.
func (s *Server) sweepLoop() {
	defer s.maint.Done()
	ticker := time.NewTicker(s.cfg.Retention.SweepInterval)
	defer ticker.Stop()
	for {
		s.sweep()
		select {
		case <-s.maintStop:
			return
		case <-ticker.C:
		}
	}
}

func (s *Server) sweep() {
	r := s.cfg.Retention
	for _, x := range []struct {
		state storage.State
		ttl   time.Duration
	}{{storage.StateCompleted, r.Completed}, {storage.StateFailed, r.Failed}, {storage.StateAborted, r.Aborted}} {
		if x.ttl <= 0 {
			continue
		}
		n, err := s.store.JobDeleteFinished(context.Background(), &storage.JobDeleteFinishedParams{State: x.state, FinishedBefore: time.Now().Add(-x.ttl)})
		if err != nil {
			s.logger.Error("jobgen: retention sweep failed", "state", x.state, "err", err)
			continue
		}
		if n > 0 {
			s.logger.Debug("jobgen: retention sweep", "state", x.state, "deleted", n)
		}
	}
}

// subscriptionLoop applies storage notifications: other processes' submits
// wake loops, abort requests cancel local jobs, finishes and progress reach
// waiters and subscribers, and a resync re-reads everything that matters.
func (s *Server) subscriptionLoop(ch <-chan storage.Notification, cancel context.CancelFunc) {
	defer s.maint.Done()
	defer func() {
		cancel()
		for range ch { // the backend closes ch once ctx is cancelled
		}
	}()
	for {
		select {
		case <-s.maintStop:
			return
		case n, ok := <-ch:
			if !ok {
				return
			}
			s.notified(n)
		}
	}
}

func (s *Server) notified(n storage.Notification) {
	switch n.Kind {
	case storage.NotifyInserted:
		s.wakeQueue(n.Queue)
	case storage.NotifyAbortRequested:
		if rj := s.runningJob(n.JobID); rj != nil {
			rj.requestAbort()
		}
	case storage.NotifyProgress:
		if s.runningJob(n.JobID) == nil { // local jobs report directly
			s.hub.notified(n)
		}
	case storage.NotifyResync:
		s.mu.Lock()
		for _, q := range s.queues {
			q.wakeUp()
		}
		s.mu.Unlock()
		select {
		case s.beat <- struct{}{}:
		default:
		}
		s.hub.notified(n)
	default:
		s.hub.notified(n)
	}
}

// progressPublisher sends local progress to other processes. Progress is a
// hint: when the publisher falls behind, reports are dropped.
func (s *Server) progressPublisher() {
	defer s.maint.Done()
	for {
		select {
		case <-s.maintStop:
			return
		case n := <-s.progressCh:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.notifier.Publish(ctx, n); err != nil {
				s.logger.Debug("jobgen: progress publish failed", "job_id", n.JobID, "err", err)
			}
			cancel()
		}
	}
}
