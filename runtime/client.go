package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Client submits, aborts, waits for and observes jobs. Server.Client returns
// a client attached to that server, which takes same-process fast paths;
// NewClient returns a detached one for processes that run no workers. A
// Client is safe for concurrent use.
type Client struct {
	store        storage.Storage
	srv          *Server // nil when detached
	hub          *hub
	maxPayload   int
	pollInterval time.Duration
	logger       *slog.Logger
	clk          timeSource
	submitMW     []SubmitMiddleware

	// watch is the detached client's storage subscription, started by the
	// first WaitFor or progress subscription on a backend with notifications.
	watchOnce   sync.Once
	watchCancel context.CancelFunc
	watchReady  chan struct{} // closed once Subscribe has returned
	watchDone   chan struct{}
}

// NewClient returns a client detached from any server. Close it when done
// to stop its storage subscription.
func NewClient(store storage.Storage, cfg ClientConfig) (*Client, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil storage", ErrInvalidOption)
	}
	cfg = cfg.withDefaults(detachedPollInterval(store))
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return newClient(store, cfg, nil), nil
}

// newClient returns a client over store with cfg, whose defaults are
// filled: attached to srv, or detached when srv is nil.
func newClient(store storage.Storage, cfg ClientConfig, srv *Server) *Client {
	clk := newTimeSource(cfg.Clock)
	return &Client{
		store:        store,
		srv:          srv,
		hub:          newHub(cfg.Logger, clk),
		maxPayload:   cfg.MaxPayloadBytes,
		pollInterval: cfg.PollInterval,
		logger:       cfg.Logger,
		clk:          clk,
		submitMW:     slices.Clone(cfg.SubmitMiddleware),
	}
}

// Close stops a detached client's storage subscription, also one still
// connecting. It does nothing for an attached client, whose server owns the
// subscription.
func (c *Client) Close() error {
	if c.srv != nil {
		return nil
	}
	c.watchOnce.Do(func() {}) // no subscription may start after Close
	if c.watchCancel != nil {
		c.watchCancel()
		<-c.watchDone
	}
	return nil
}

// submit validates and stores one job. It writes nothing when anything is
// invalid.
func (c *Client) submit(ctx context.Context, k *KindOpts, input []byte, key string, opts *SubmitOpts) (*storage.JobInsertResult, error) {
	p, err := c.insertParams(k, input, key, opts)
	if err != nil {
		return nil, fmt.Errorf("submit %s: %w", k.Name, err)
	}
	if c.srv != nil && c.srv.closed() {
		return nil, fmt.Errorf("submit %s: %w", k.Name, ErrServerClosed)
	}
	// The event goes out before the job is started or the loop woken, so a
	// start this submit causes reaches listeners after it; a fetch already
	// in flight may still start the job first.
	inserted := func(res *storage.JobInsertResult) {
		if !res.Duplicate && c.hub.listening() {
			c.hub.emit(Event{Kind: EventSubmitted, JobID: res.Job.ID, JobKind: k.Name, Queue: p.Queue, RunAfter: res.Job.RunAfter, At: c.clk.now()})
		}
	}
	store := func(ctx context.Context) (*storage.JobInsertResult, error) {
		if tx := txOf(ctx); tx != nil {
			return c.submitTx(ctx, tx, p, inserted)
		}
		if c.srv != nil {
			res, err := c.srv.submit(ctx, p, inserted)
			return res, storageError(err)
		}
		res, err := c.store.JobInsert(ctx, p)
		if err != nil {
			return nil, storageError(err)
		}
		inserted(res)
		return res, nil
	}
	var res *storage.JobInsertResult
	if len(c.submitMW) > 0 {
		res, err = c.submitThrough(ctx, p, store)
	} else {
		res, err = store(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("submit %s: %w", k.Name, err)
	}
	return res, nil
}

// override returns *v when it is set, else def.
func override[T any](v *T, def T) T {
	if v != nil {
		return *v
	}
	return def
}

func (c *Client) insertParams(k *KindOpts, input []byte, key string, opts *SubmitOpts) (*storage.JobInsertParams, error) {
	p, err := c.baseParams(k, opts)
	if err != nil {
		return nil, err
	}
	if err := c.setInput(&p, input, key); err != nil {
		return nil, err
	}
	return &p, nil
}

// baseParams returns the insert of a job of kind k with opts applied and
// no input yet: what the jobs of one submit share.
func (c *Client) baseParams(k *KindOpts, opts *SubmitOpts) (storage.JobInsertParams, error) {
	p := storage.JobInsertParams{
		Kind:        k.Name,
		Queue:       k.Queue,
		Priority:    k.Priority,
		MaxAttempts: k.MaxAttempts,
		Timeout:     k.Timeout,
		UniqueFor:   k.UniqueFor,
		Now:         c.clk.storeNow(),
	}
	if o := opts; o != nil {
		if err := o.validate(); err != nil {
			return p, err
		}
		p.Queue = cmp.Or(o.Queue, p.Queue)
		p.Priority = override(o.Priority, p.Priority)
		p.MaxAttempts = override(o.MaxAttempts, p.MaxAttempts)
		p.Timeout = override(o.Timeout, p.Timeout)
		p.UniqueKey = o.UniqueKey
		p.UniqueFor = override(o.UniqueFor, p.UniqueFor)
		p.RunAfter = o.RunAfter
		if o.Delay > 0 {
			p.RunAfter = c.clk.now().Add(o.Delay)
		}
		p.Deadline = o.Deadline
		p.Metadata = o.Metadata
		if !p.Deadline.IsZero() && !p.RunAfter.IsZero() && p.Deadline.Before(p.RunAfter) {
			return p, fmt.Errorf("%w: deadline %v is before run-after %v", ErrInvalidOption, p.Deadline, p.RunAfter)
		}
	}
	if err := checkMetadata(p.Metadata); err != nil {
		return p, err
	}
	return p, nil
}

// setInput sets p's encoded input and its unique key (key, unless the
// submit's options gave one) and checks them.
func (c *Client) setInput(p *storage.JobInsertParams, input []byte, key string) error {
	if len(input) > c.maxPayload {
		return fmt.Errorf("%w: encoded input is %d bytes, limit %d", ErrPayloadTooLarge, len(input), c.maxPayload)
	}
	p.Input = input
	p.UniqueKey = cmp.Or(p.UniqueKey, key)
	return checkUniqueKey(p.UniqueKey)
}

// Abort aborts job id. A pending job is aborted at once; a running job's
// context is cancelled: directly when it runs under this client's server
// (also when that server has only just claimed it), otherwise through
// storage for its owner to see, at once by notification where the backend
// has them and within about the owner's PollInterval where not. It returns
// nil when the job is now aborted or the request is recorded, an error
// matching ErrFinished when the job had already finished, and ErrNotFound
// for an unknown id. A handler that returns success after an abort request
// still completes the job.
func (c *Client) Abort(ctx context.Context, id int64) error {
	if c.srv != nil {
		local, err := c.srv.abortLocal(ctx, id)
		if err != nil {
			return fmt.Errorf("abort job %d: %w", id, err)
		}
		if local {
			return nil
		}
	}
	// The storage's errors name the operation and the job already.
	res, err := c.store.JobAbort(ctx, &storage.JobAbortParams{ID: id, Now: c.clk.storeNow()})
	if err != nil {
		return err
	}
	switch res.Result {
	case storage.AbortTooLate:
		return fmt.Errorf("abort job %d: %w (state %s)", id, ErrFinished, res.Job.State)
	case storage.AbortedNow:
		job := res.Job
		c.hub.finished(job, Event{Kind: EventAborted, JobID: id, JobKind: job.Kind, Queue: job.Queue, Attempt: job.Attempt, Err: jobError(job, nil), At: c.clk.now()})
	case storage.AbortRequested:
		if c.srv != nil {
			// The server's claim of the job may have committed before the
			// request and not yet taken the job in.
			if err := c.srv.abortRecorded(ctx, id); err != nil {
				return fmt.Errorf("abort job %d: %w", id, err)
			}
		}
	}
	return nil
}

// Get returns job id as stored, or an error matching ErrNotFound.
func (c *Client) Get(ctx context.Context, id int64) (*storage.Job, error) {
	// The storage's errors name the operation and the job already.
	return c.store.JobGet(ctx, &storage.JobGetParams{ID: id})
}

// wait returns job id of kind kind once it is finished: the job when it
// completed, or the job and a *JobError when it failed or was aborted. It
// returns an error matching ErrWrongKind at once when the job is of
// another kind. The waiter is registered before storage is read, so a job
// finishing in between is never missed. It polls on the client's clock. A
// job that is not found once it is known to have existed (known: the
// caller submitted it; or an earlier read found it) finished and was
// deleted by retention: wait returns ErrDeleted for it, since jobs are
// deleted only once finished.
func (c *Client) wait(ctx context.Context, id int64, kind string, known bool) (*storage.Job, error) {
	w := c.hub.addWaiter(id)
	defer c.hub.removeWaiter(id, w)
	c.watch(ctx)
	timer := c.clk.clock.NewTimer(c.pollInterval)
	defer timer.Stop()
	result := func(r waitResult) (*storage.Job, error) {
		if r.job.Kind != kind {
			return nil, wrongKind("wait for", id, r.job.Kind, kind)
		}
		return r.job, r.err
	}
	for {
		// The storage's errors name the operation and the job already.
		job, err := c.store.JobGet(ctx, &storage.JobGetParams{ID: id})
		if err == nil && job.Kind == kind && job.State.Terminal() || errors.Is(err, storage.ErrNotFound) {
			if r, ok := c.localResult(ctx, id, w); ok {
				return result(r)
			}
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			if known && errors.Is(err, storage.ErrNotFound) {
				return nil, fmt.Errorf("wait for job %d: %w", id, ErrDeleted)
			}
			return nil, err
		}
		if job.Kind != kind || job.State.Terminal() {
			return result(storedResult(job))
		}
		known = true
		select {
		case r := <-w.done:
			return result(r)
		case <-w.recheck:
		case <-timer.C():
			timer.Reset(c.pollInterval)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// localResult returns the outcome that the attached server, whose handler
// for job id has returned, hands its waiters once the outcome is written:
// a storage read or a notification can see the write first, but only the
// server has the handler's own error. It reports false when the job is not
// one this client's server is finishing, and when the server's write did
// not decide the outcome.
func (c *Client) localResult(ctx context.Context, id int64, w *waiter) (waitResult, bool) {
	if c.srv == nil {
		return waitResult{}, false
	}
	rj := c.srv.runningJob(id)
	if rj == nil || !rj.isDecided() {
		return waitResult{}, false
	}
	select {
	case r := <-w.done:
		return r, true
	case <-rj.waitWritten():
	case <-ctx.Done():
		return waitResult{}, false
	}
	select {
	case r := <-w.done:
		return r, true
	default:
		return waitResult{}, false
	}
}

// waitResult is what a wait returns: a finished job, and its *JobError
// unless it completed.
type waitResult struct {
	job *storage.Job
	err error
}

// storedResult is the wait result of job as read from storage, which keeps
// no handler's error.
func storedResult(job *storage.Job) waitResult {
	if !job.State.Terminal() || job.State == storage.StateCompleted {
		return waitResult{job: job}
	}
	return waitResult{job: job, err: jobError(job, nil)}
}

// SubscribeProgress delivers job id's progress reports until the job
// finishes or cancel is called; then the channel is closed. Reports of jobs
// running in this process arrive directly; others arrive through the
// backend's notifications where it has them (storage.Notifier), in the
// order they were made and all before the channel is closed: the first
// subscription of a detached client waits up to subscribeWait for the
// backend's subscription to be in place, so that reports sent after it
// returns are heard.
func (c *Client) SubscribeProgress(id int64) (updates <-chan Progress, cancel func()) {
	ctx, stop := context.WithTimeout(context.Background(), subscribeWait)
	c.watch(ctx)
	stop()
	return c.hub.subscribeProgress(id)
}

// subscribeWait bounds how long SubscribeProgress, which takes no context,
// waits for a detached client's storage subscription to start.
const subscribeWait = 5 * time.Second

// Subscribe calls fn for every event this process sees, on a goroutine of
// its own, in order. A slow or panicking fn holds up nobody else. Call
// cancel to stop.
func (c *Client) Subscribe(fn func(Event)) (cancel func()) {
	return c.hub.subscribe(fn)
}

// watch starts the detached client's storage subscription once, when the
// backend has notifications, and waits until it listens or ctx ends; a nil
// ctx does not wait. The subscription connects on a goroutine of its own,
// so a hung connection holds up neither a caller past its ctx nor Close.
func (c *Client) watch(ctx context.Context) {
	if c.srv != nil {
		return
	}
	n, ok := c.store.(storage.Notifier)
	if !ok {
		return
	}
	c.watchOnce.Do(func() {
		sub, cancel := context.WithCancel(context.Background())
		c.watchCancel, c.watchReady, c.watchDone = cancel, make(chan struct{}), make(chan struct{})
		go c.runWatch(sub, n)
	})
	if ctx == nil || c.watchReady == nil {
		return
	}
	select {
	case <-c.watchReady:
	case <-ctx.Done():
	}
}

// runWatch subscribes and applies notifications until ctx ends (Close).
func (c *Client) runWatch(ctx context.Context, n storage.Notifier) {
	defer close(c.watchDone)
	ch, err := n.Subscribe(ctx)
	close(c.watchReady)
	if err != nil {
		if ctx.Err() == nil {
			c.logger.Warn("jobgen: storage subscription failed; waiting by polling", logErr, err)
		}
		return
	}
	for n := range ch {
		c.hub.notified(n)
	}
}
