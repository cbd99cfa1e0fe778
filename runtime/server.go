package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
	runMW    []RunMiddleware
	logger   *slog.Logger
	clk      timeSource
	hub      *hub // the attached client's
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

	// The lifetime contexts of the server's storage calls (see callCtx).
	life, serving       context.Context
	endLife, endServing context.CancelFunc
	stopAfterStart      func() bool // unregisters Start's ctx watch

	stopOnce   sync.Once
	cancelOnce sync.Once
	stopCh     chan struct{} // closed when Stop begins: loops stop claiming
	cancelCh   chan struct{} // closed to cut the drain wait short
	stuckCh    chan struct{} // closed when jobs outlived the grace after cancel
	drainedCh  chan struct{} // closed when a stop's drain wait is over: outcome writes stop retrying
	doneCh     chan struct{} // closed when everything has stopped
	stuckErr   error
	// stuckReported: a Stop returned stuckErr; later calls wait for the rest.
	stuckReported atomic.Bool

	loops sync.WaitGroup // fetch loops
	// submitting counts the attached client's submits in flight (see
	// Server.submit).
	submitting atomic.Int32
	claims     *claimsInFlight
	jobs       sync.WaitGroup // jobs from claim until their outcome is written
	maint      sync.WaitGroup // heartbeat, sweep, subscription, progress publisher
	workers    sync.WaitGroup // worker goroutines, stopped with maintenance
	maintStop  chan struct{}
	beat       chan struct{}    // asks the heartbeat for an early round
	progressCh chan progressPub // nil without notifications
	// origin names this server in the progress notifications it publishes,
	// so that it can ignore them when they come back.
	origin uint64

	scheduled []*storage.ScheduleUpsertParams // registered before Start (see schedule.go)
	schedWake chan struct{}                   // wakes the schedule loop
}

// NewServer returns a server over store. It validates cfg and fills its
// defaults.
func NewServer(store storage.Storage, cfg Config) (*Server, error) {
	if store == nil {
		return nil, fmt.Errorf("new server: %w: nil storage", ErrInvalidOption)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s := &Server{
		store:     store,
		cfg:       cfg,
		runMW:     slices.Clone(cfg.RunMiddleware),
		logger:    cfg.Logger,
		clk:       newTimeSource(cfg.Clock),
		kinds:     make(map[string]*registeredKind),
		running:   make(map[int64]*runningJob),
		stopCh:    make(chan struct{}),
		cancelCh:  make(chan struct{}),
		stuckCh:   make(chan struct{}),
		drainedCh: make(chan struct{}),
		doneCh:    make(chan struct{}),
		maintStop: make(chan struct{}),
		beat:      make(chan struct{}, 1),
		schedWake: make(chan struct{}, 1),
		claims:    newClaimsInFlight(),
		origin:    rand.Uint64() | 1,
	}
	s.life, s.endLife = context.WithCancel(context.Background())
	s.serving, s.endServing = context.WithCancel(s.life)
	s.notifier, _ = store.(storage.Notifier)
	s.client = newClient(store, cfg.client(), s)
	s.hub = s.client.hub
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
		return errors.New("jobgen: server already started")
	case len(s.kinds) == 0:
		return errors.New("jobgen: start: no handlers registered")
	}
	queues, err := s.buildQueues()
	if err != nil {
		return fmt.Errorf("jobgen: start: %w", err)
	}
	s.started = true
	s.queues = queues
	s.kindNames = slices.Sorted(maps.Keys(s.kinds))
	s.jobBase = context.WithoutCancel(ctx)

	go s.fin.run()
	s.startMaintenance()
	s.maint.Add(1)
	go s.scheduleLoop()
	for _, q := range s.queues {
		s.loops.Add(1)
		go s.fetchLoop(q)
	}
	s.stopAfterStart = context.AfterFunc(ctx, func() {
		s.cutDrain()
		s.beginStop()
	})
	s.logger.Info("jobgen: server started", "queues", len(s.queues), "kinds", len(s.kindNames))
	return nil
}

// buildQueues returns the queues s works (see Config.Queues).
func (s *Server) buildQueues() (map[string]*queue, error) {
	cfgs, err := s.cfg.queueConfigs(s.kinds)
	if err != nil {
		return nil, err
	}
	queues := make(map[string]*queue, len(cfgs))
	for name, qc := range cfgs {
		queues[name] = newQueue(name, qc)
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

// runningJob returns the claimed job id this server holds, or nil.
func (s *Server) runningJob(id int64) *runningJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[id]
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
// first, Stop cuts the drain short, cancels the server's storage calls in
// flight (jobs whose outcome is then not written are rescued when their
// leases expire) and returns ctx.Err(), even if a storage call ignores its
// context; calling it again waits for the rest. It returns an error naming
// the jobs whose handlers did not return after being cancelled; a later
// call waits for them. Once Stop has returned nil, nothing of the server
// runs any more.
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
		s.cutDrain()
		s.endLife()
		return ctx.Err()
	}
}

// StopAndCancel stops the server like Stop but cancels running jobs at once
// instead of waiting for them to finish.
func (s *Server) StopAndCancel(ctx context.Context) error {
	s.cutDrain()
	return s.Stop(ctx)
}

// cutDrain ends the wait for running jobs of a stop, begun or to come: they
// are cancelled at once, and so are claims and other storage calls a
// stopping server no longer needs (see callCtx).
func (s *Server) cutDrain() {
	s.cancelOnce.Do(func() {
		close(s.cancelCh)
		s.endServing()
	})
}

func (s *Server) beginStop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.closing.Store(true)
		started := s.started
		s.mu.Unlock()
		close(s.stopCh)
		if !started {
			s.endLife()
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
	close(s.drainedCh)
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
	s.stopAfterStart()
	s.endLife()
	s.logger.Info("jobgen: server stopped")
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
	ids := slices.Sorted(maps.Keys(s.running))
	s.mu.Unlock()
	return fmt.Errorf("jobgen: stop: %d job(s) still running after cancel %v: their handlers ignore ctx; they are released when they return", len(ids), ids)
}

// abortLocal cancels job id when it runs in this server. It reports whether
// the abort was handled here. When the job's handler has already returned,
// it waits until the outcome is written and leaves the answer to storage.
func (s *Server) abortLocal(ctx context.Context, id int64) (bool, error) {
	rj, err := s.heldJob(ctx, id)
	if rj == nil || err != nil {
		return false, err
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

// abortRecorded follows an abort request that storage recorded for running
// job id: when this server holds the job, it cancels it at once instead of
// leaving the request to the next heartbeat. A claim of this server that
// took the job committed before the request was recorded, so once the
// claims in flight now are done the job is in the running set or not here.
func (s *Server) abortRecorded(ctx context.Context, id int64) error {
	rj, err := s.heldJob(ctx, id)
	if rj != nil {
		rj.requestAbort()
	}
	return err
}

// heldJob returns job id when this server holds it, or nil. When the job
// is not in the running set while claims are in flight, one of them may
// have claimed it: it waits for them (bounded by ctx) and looks again, so
// a job claimed here is always found.
func (s *Server) heldJob(ctx context.Context, id int64) (*runningJob, error) {
	if rj := s.runningJob(id); rj != nil || !s.claims.busy() {
		return rj, nil
	}
	if err := s.claims.wait(ctx); err != nil {
		return nil, err
	}
	return s.runningJob(id), nil
}
