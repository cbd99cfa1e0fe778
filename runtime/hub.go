package runtime

import (
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jobgen/jobgen/runtime/storage"
)

// hub fans what happens to jobs out to this process's observers: WaitFor
// waiters, event listeners and progress subscribers. A server and its
// attached client share one hub. Nothing in it blocks the caller: listeners
// run on their own goroutines with their own queues.
type hub struct {
	logger *slog.Logger
	clk    timeSource // dates events from notifications

	// nwaiters, nlisteners and nprogress let the hot path skip the lock
	// when nobody observes.
	nwaiters   atomic.Int64
	nlisteners atomic.Int64
	nprogress  atomic.Int64

	mu        sync.Mutex
	waiters   map[int64][]*waiter
	listeners []*listener // a slice: emit walks it once per event
	progress  map[int64][]*progressSub
}

func newHub(logger *slog.Logger, clk timeSource) *hub {
	return &hub{
		logger:   logger,
		clk:      clk,
		waiters:  make(map[int64][]*waiter),
		progress: make(map[int64][]*progressSub),
	}
}

// waiter is one WaitFor call. done receives the finished job once; recheck
// is poked when a notification says the job may have changed elsewhere.
type waiter struct {
	done    chan waitResult
	recheck chan struct{}
}

func (h *hub) addWaiter(id int64) *waiter {
	w := &waiter{done: make(chan waitResult, 1), recheck: make(chan struct{}, 1)}
	h.mu.Lock()
	h.waiters[id] = append(h.waiters[id], w)
	h.mu.Unlock()
	h.nwaiters.Add(1)
	return w
}

func (h *hub) removeWaiter(id int64, w *waiter) {
	h.mu.Lock()
	if removeFrom(h.waiters, id, w) {
		h.nwaiters.Add(-1)
	}
	h.mu.Unlock()
}

// removeFrom removes v from the list m[k], deleting k once its list is
// empty, and reports whether v was in it.
func removeFrom[K, V comparable](m map[K][]V, k K, v V) bool {
	vs := m[k]
	i := slices.Index(vs, v)
	if i < 0 {
		return false
	}
	if vs = slices.Delete(vs, i, i+1); len(vs) == 0 {
		delete(m, k)
	} else {
		m[k] = vs
	}
	return true
}

// recheck asks the waiters of id (all waiters when id is 0) to read storage again.
func (h *hub) recheck(id int64) {
	if h.nwaiters.Load() == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	poke := func(ws []*waiter) {
		for _, w := range ws {
			latch(w.recheck)
		}
	}
	if id != 0 {
		poke(h.waiters[id])
		return
	}
	for _, ws := range h.waiters {
		poke(ws)
	}
}

// finished resolves the waiters of a job whose terminal state is durable,
// closes its progress subscriptions and emits its terminal event. ev.Err
// is what the waiters return with the job: nil when it completed, its
// *JobError otherwise.
func (h *hub) finished(job *storage.Job, ev Event) {
	if h.nwaiters.Load() > 0 {
		h.mu.Lock()
		for _, w := range h.waiters[job.ID] {
			select {
			case w.done <- waitResult{job: job, err: ev.Err}:
			default:
			}
		}
		h.mu.Unlock()
	}
	h.emit(ev)
	h.closeProgress(job.ID)
}

// closeProgress ends the progress subscriptions of a finished job.
func (h *hub) closeProgress(id int64) {
	if h.nprogress.Load() == 0 {
		return
	}
	h.mu.Lock()
	for _, s := range h.progress[id] {
		s.close()
		h.nprogress.Add(-1)
	}
	delete(h.progress, id)
	h.mu.Unlock()
}

// observed reports whether anyone in this process waits for, listens to or
// follows the progress of any job.
func (h *hub) observed() bool {
	return h.nwaiters.Load() > 0 || h.nlisteners.Load() > 0 || h.nprogress.Load() > 0
}

// listening reports whether any event listener is subscribed; hot paths
// check it before they build an event.
func (h *hub) listening() bool { return h.nlisteners.Load() > 0 }

// emit queues ev for every listener.
func (h *hub) emit(ev Event) {
	if h.nlisteners.Load() == 0 {
		return
	}
	h.mu.Lock()
	for _, l := range h.listeners {
		l.push(ev)
	}
	h.mu.Unlock()
}

// reportProgress delivers p to the job's progress subscribers and as an event.
func (h *hub) reportProgress(ev Event) {
	if h.nprogress.Load() > 0 {
		h.mu.Lock()
		for _, s := range h.progress[ev.JobID] {
			s.send(ev.Progress)
		}
		h.mu.Unlock()
	}
	h.emit(ev)
}

// subscribe registers fn as an event listener running on its own goroutine.
func (h *hub) subscribe(fn func(Event)) (cancel func()) {
	l := &listener{fn: fn, logger: h.logger, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	h.mu.Lock()
	h.listeners = append(h.listeners, l)
	h.mu.Unlock()
	h.nlisteners.Add(1)
	go l.run()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			h.listeners = slices.DeleteFunc(h.listeners, func(x *listener) bool { return x == l })
			h.mu.Unlock()
			h.nlisteners.Add(-1)
			close(l.stop)
			<-l.done
		})
	}
}

// subscribeProgress returns a channel of job id's progress that is closed
// when the job finishes or cancel is called.
func (h *hub) subscribeProgress(id int64) (<-chan Progress, func()) {
	s := &progressSub{ch: make(chan Progress, 16)}
	h.mu.Lock()
	h.progress[id] = append(h.progress[id], s)
	h.mu.Unlock()
	h.nprogress.Add(1)
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			if removeFrom(h.progress, id, s) {
				h.nprogress.Add(-1)
				s.close()
			}
			h.mu.Unlock()
		})
	}
}

// listener delivers events to one callback in order, on its own goroutine,
// so a slow or panicking callback never holds up anyone else.
type listener struct {
	fn     func(Event)
	logger *slog.Logger

	mu    sync.Mutex
	queue []Event
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

func (l *listener) push(ev Event) {
	l.mu.Lock()
	l.queue = append(l.queue, ev)
	l.mu.Unlock()
	latch(l.wake)
}

// maxSpareEvents caps the buffer a listener keeps for reuse, so that one
// burst does not pin a large one for the listener's life.
const maxSpareEvents = 4096

func (l *listener) run() {
	defer close(l.done)
	var spare []Event // the drained batch, reused as the next queue
	for {
		select {
		case <-l.stop:
			return
		case <-l.wake:
		}
		for {
			l.mu.Lock()
			batch := l.queue
			l.queue = spare
			l.mu.Unlock()
			if len(batch) == 0 {
				spare = batch
				break
			}
			for _, ev := range batch {
				select {
				case <-l.stop:
					return
				default:
				}
				l.call(ev)
			}
			clear(batch) // events hold errors; let them go
			spare = nil
			if cap(batch) <= maxSpareEvents {
				spare = batch[:0]
			}
		}
	}
}

func (l *listener) call(ev Event) {
	defer func() {
		if r := recover(); r != nil {
			l.logger.Error("jobgen: event listener panicked", "event", ev.Kind.String(), logJobID, ev.JobID, logKind, ev.JobKind,
				logQueue, ev.Queue, logAttempt, ev.Attempt, "panic", r, logStack, string(debug.Stack()))
		}
	}()
	l.fn(ev)
}

// progressSub is one progress subscription. When its buffer is full the
// oldest update is dropped: the latest progress is what matters.
type progressSub struct {
	ch     chan Progress
	closed bool
}

// send and close are called with the hub's lock held.
func (s *progressSub) send(p Progress) {
	if s.closed {
		return
	}
	for {
		select {
		case s.ch <- p:
			return
		default:
		}
		select {
		case <-s.ch:
		default:
		}
	}
}

func (s *progressSub) close() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

// notified applies a storage notification to this process's observers.
func (h *hub) notified(n storage.Notification) {
	switch n.Kind {
	case storage.NotifyFinished:
		h.recheck(n.JobID)
		h.closeProgress(n.JobID)
	case storage.NotifyResync:
		h.recheck(0)
	case storage.NotifyProgress:
		p, err := decodeProgress(n.Payload)
		if err != nil {
			h.logger.Debug("jobgen: undecodable progress notification", logJobID, n.JobID, logErr, err)
			return
		}
		h.reportProgress(Event{Kind: EventProgress, JobID: n.JobID, Queue: n.Queue, Progress: p.Progress, At: h.clk.now()})
	}
}
