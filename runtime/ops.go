package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Errors of the operations (List, Retry, Delete, AbortMany, PauseQueue and
// the rest). Match them with errors.Is; nothing was changed when one is
// returned.
var (
	// ErrInvalidCursor: a List cursor was not made by List for the same
	// order. It is storage.ErrInvalidCursor.
	ErrInvalidCursor = storage.ErrInvalidCursor
	// ErrUnknownState: a filter names a state that does not exist. It is
	// storage.ErrUnknownState.
	ErrUnknownState = storage.ErrUnknownState
	// ErrEmptyFilter: a bulk operation's filter would match every job and
	// the call did not set All. It is storage.ErrEmptyFilter.
	ErrEmptyFilter = storage.ErrEmptyFilter
	// ErrNotRetryable: Retry found the job pending, running or completed
	// (only failed and aborted jobs are retried; submit a new job instead of
	// retrying a completed one), or an active job of its kind holds its
	// unique key.
	ErrNotRetryable = errors.New("runtime: job cannot be retried")
	// ErrNotDeletable: Delete found the job running, or pending without
	// DeleteOpts.Pending.
	ErrNotDeletable = errors.New("runtime: job cannot be deleted")
)

// JobFilter selects jobs for List and the bulk operations; see
// storage.JobFilter. The zero JobFilter matches every job.
type JobFilter = storage.JobFilter

// Order is the order of List's jobs; see storage.Order.
type Order = storage.Order

// The orders of List.
const (
	// OrderNewest lists the newest jobs first (descending id); the default.
	OrderNewest = storage.OrderNewest
	// OrderOldest lists the oldest jobs first (ascending id).
	OrderOldest = storage.OrderOldest
)

// ListOpts selects one page of List.
type ListOpts struct {
	Filter JobFilter
	Order  Order
	// Cursor is the Next of the previous page, listed with the same Order;
	// empty starts at the first job.
	Cursor string
	// Limit caps the page; zero means 100, and it is at most 1,000.
	Limit int
}

// JobPage is one page of List: the jobs, and the cursor of the next page
// (Next, empty on the last page).
type JobPage = storage.JobQueryResult

// List returns one page of the jobs matching opts.Filter in opts.Order (a
// nil opts lists the newest jobs). Pages are keyset pages by job id: jobs
// inserted or deleted meanwhile never make a later page repeat or skip a
// job that was there all along. Filters by names no job has match
// nothing; an unknown state matches ErrUnknownState, a malformed cursor
// ErrInvalidCursor.
func (c *Client) List(ctx context.Context, opts *ListOpts) (*JobPage, error) {
	var o ListOpts
	if opts != nil {
		o = *opts
	}
	page, err := c.store.JobQuery(ctx, &storage.JobQueryParams{Filter: o.Filter, Order: o.Order, Cursor: o.Cursor, Limit: o.Limit})
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return page, nil
}

// Counts are the job counts of Count; see storage.JobCountResult.
type Counts = storage.JobCountResult

// Count counts the stored jobs per queue and state and per kind and state,
// and reports for each queue with ready jobs how long the oldest one has
// waited (Counts.Now minus its OldestReady). A queue's pending and running
// counts are exact; the others are exact up to storage.CountLimit, and
// past it may be lower bounds (GroupCount.AtLeast), so that a count costs
// the same on a table of any size.
func (c *Client) Count(ctx context.Context) (*Counts, error) {
	res, err := c.store.JobCount(ctx, &storage.JobCountParams{})
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return res, nil
}

// QueueInfo is what Queues reports of one queue.
type QueueInfo struct {
	Name string
	// Paused reports whether the queue is paused, and since when.
	Paused   bool
	PausedAt time.Time
	// Pending and Running count the queue's jobs in those states, exactly.
	Pending, Running int64
	// OldestReady is the earliest RunAfter among the queue's ready pending
	// jobs (zero when none is ready): the oldest has waited since then.
	OldestReady time.Time
}

// Queues returns every queue that has jobs or a stored state (it was
// paused at some time), in name order.
func (c *Client) Queues(ctx context.Context) ([]QueueInfo, error) {
	states, err := c.store.QueueList(ctx, &storage.QueueListParams{})
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	counts, err := c.store.JobCount(ctx, &storage.JobCountParams{})
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	byName := make(map[string]*QueueInfo)
	info := func(name string) *QueueInfo {
		q := byName[name]
		if q == nil {
			q = &QueueInfo{Name: name}
			byName[name] = q
		}
		return q
	}
	for _, st := range states {
		q := info(st.Name)
		q.Paused, q.PausedAt = st.Paused, st.PausedAt
	}
	for _, g := range counts.Queues {
		q := info(g.Name)
		switch g.State {
		case storage.StatePending:
			q.Pending = g.Count
		case storage.StateRunning:
			q.Running = g.Count
		}
	}
	for _, a := range counts.Ready {
		info(a.Queue).OldestReady = a.OldestReady
	}
	out := make([]QueueInfo, 0, len(byName))
	for _, q := range byName {
		out = append(out, *q)
	}
	slices.SortFunc(out, func(a, b QueueInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// RetryOpts tunes Retry and RetryMany.
type RetryOpts struct {
	// RunAfter defers the retried jobs; zero means ready now.
	RunAfter time.Time
	// All lets RetryMany's empty filter mean every failed and aborted job.
	All bool
}

// Retry returns failed or aborted job id to pending with a fresh budget
// of attempts, and returns it as read just after the retry (a server may
// have claimed it already). The job keeps its last error message and code
// until its next outcome. A pending, running
// or completed job is refused with an error matching ErrNotRetryable
// (submit a new job instead of retrying a completed one), an unknown id
// with ErrNotFound.
func (c *Client) Retry(ctx context.Context, id int64, opts *RetryOpts) (*storage.Job, error) {
	var o RetryOpts
	if opts != nil {
		o = *opts
	}
	res, err := c.store.JobRetry(ctx, &storage.JobRetryParams{
		JobBatch: storage.JobBatch{Filter: JobFilter{IDs: []int64{id}}},
		RunAfter: o.RunAfter,
	})
	if err != nil {
		return nil, fmt.Errorf("retry job %d: %w", id, err)
	}
	job, err := c.store.JobGet(ctx, &storage.JobGetParams{ID: id})
	if err != nil {
		return nil, fmt.Errorf("retry job %d: %w", id, err)
	}
	if res.Changed == 0 {
		if job.State == storage.StateFailed || job.State == storage.StateAborted {
			return nil, fmt.Errorf("retry job %d: %w: an active %s job holds its unique key %q", id, ErrNotRetryable, job.Kind, job.UniqueKey)
		}
		return nil, fmt.Errorf("retry job %d: %w: it is %s", id, ErrNotRetryable, job.State)
	}
	c.wakeQueues(job.Queue)
	return job, nil
}

// RetryMany retries, as Retry does, every failed and aborted job matching
// f (jobs in other states are left alone) and returns how many it retried.
// An empty f is refused with ErrEmptyFilter unless opts.All is set. It
// works in batches, so a very large retry is not one long transaction; a
// job that fails again while the call runs is not retried twice.
func (c *Client) RetryMany(ctx context.Context, f JobFilter, opts *RetryOpts) (int, error) {
	var o RetryOpts
	if opts != nil {
		o = *opts
	}
	n, err := c.batches(ctx, storage.JobBatch{Filter: f, All: o.All}, func(b storage.JobBatch) (*storage.JobBatchResult, error) {
		return c.store.JobRetry(ctx, &storage.JobRetryParams{JobBatch: b, RunAfter: o.RunAfter})
	})
	if err != nil {
		return n, fmt.Errorf("retry jobs: %w", err)
	}
	if n > 0 {
		c.wakeQueues(f.Queues...)
	}
	return n, nil
}

// DeleteOpts tunes Delete and DeleteMany.
type DeleteOpts struct {
	// Pending deletes pending jobs too; without it only finished
	// (completed, failed, aborted) jobs are deleted. Running jobs are never
	// deleted.
	Pending bool
	// All lets DeleteMany's empty filter mean every job.
	All bool
}

// Delete deletes finished job id (a pending one only with opts.Pending).
// A running job, or a pending one without opts.Pending, is refused with an
// error matching ErrNotDeletable; an unknown id matches ErrNotFound.
func (c *Client) Delete(ctx context.Context, id int64, opts *DeleteOpts) error {
	var o DeleteOpts
	if opts != nil {
		o = *opts
	}
	res, err := c.store.JobDelete(ctx, &storage.JobDeleteParams{
		JobBatch: storage.JobBatch{Filter: JobFilter{IDs: []int64{id}}},
		Pending:  o.Pending,
	})
	if err != nil {
		return fmt.Errorf("delete job %d: %w", id, err)
	}
	if res.Changed == 1 {
		return nil
	}
	job, err := c.store.JobGet(ctx, &storage.JobGetParams{ID: id})
	if err != nil {
		return fmt.Errorf("delete job %d: %w", id, err)
	}
	return fmt.Errorf("delete job %d: %w: it is %s", id, ErrNotDeletable, job.State)
}

// DeleteMany deletes the finished jobs matching f (and the pending ones
// with opts.Pending; running jobs never) and returns how many it deleted.
// An empty f is refused with ErrEmptyFilter unless opts.All is set. It
// works in batches, so a very large delete is not one long transaction.
func (c *Client) DeleteMany(ctx context.Context, f JobFilter, opts *DeleteOpts) (int, error) {
	var o DeleteOpts
	if opts != nil {
		o = *opts
	}
	n, err := c.batches(ctx, storage.JobBatch{Filter: f, All: o.All}, func(b storage.JobBatch) (*storage.JobBatchResult, error) {
		return c.store.JobDelete(ctx, &storage.JobDeleteParams{JobBatch: b, Pending: o.Pending})
	})
	if err != nil {
		return n, fmt.Errorf("delete jobs: %w", err)
	}
	return n, nil
}

// AbortManyOpts tunes AbortMany.
type AbortManyOpts struct {
	// All lets an empty filter mean every pending and running job.
	All bool
}

// AbortMany aborts the pending and running jobs matching f, each as Abort
// does through storage: a pending job is aborted at once, a running one
// gets an abort request its holder sees at its next heartbeat or
// notification. It returns how many jobs it aborted or asked to abort (a
// job already asked is not counted again). An empty f is refused with
// ErrEmptyFilter unless opts.All is set.
func (c *Client) AbortMany(ctx context.Context, f JobFilter, opts *AbortManyOpts) (int, error) {
	var o AbortManyOpts
	if opts != nil {
		o = *opts
	}
	n, err := c.batches(ctx, storage.JobBatch{Filter: f, All: o.All}, func(b storage.JobBatch) (*storage.JobBatchResult, error) {
		return c.store.JobAbortMany(ctx, &storage.JobAbortManyParams{JobBatch: b})
	})
	if err != nil {
		return n, fmt.Errorf("abort jobs: %w", err)
	}
	if n > 0 && c.srv != nil {
		latch(c.srv.beat) // the attached server's running jobs see their requests now
	}
	return n, nil
}

// batches runs op over b's matches batch by batch until the last and
// returns how many jobs the batches changed.
func (c *Client) batches(ctx context.Context, b storage.JobBatch, op func(storage.JobBatch) (*storage.JobBatchResult, error)) (int, error) {
	if err := b.Validate(); err != nil {
		return 0, err
	}
	n := 0
	for {
		res, err := op(b)
		if err != nil {
			return n, err
		}
		n += res.Changed
		if res.Next == 0 {
			return n, nil
		}
		b.AfterID = res.Next
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
}

// PauseQueue pauses queue name on every server of the storage, in every
// process, and durably: once it returns, no claim begun afterwards takes a
// job of the queue (a claim already in flight may still take the jobs it
// selected); jobs already running finish. Submits to the queue are still
// accepted. A queue with no jobs yet, or that no server works, may be
// paused; name must be a valid queue name (ErrInvalidName). Pausing a
// paused queue does nothing.
func (c *Client) PauseQueue(ctx context.Context, name string) error {
	if err := validateName("queue", name); err != nil {
		return fmt.Errorf("pause queue: %w", err)
	}
	if err := c.store.QueuePause(ctx, &storage.QueuePauseParams{Queue: name}); err != nil {
		return fmt.Errorf("pause queue %s: %w", name, err)
	}
	return nil
}

// ResumeQueue resumes queue name. Servers that work it claim again at once:
// the attached server directly, others through the backend's notifications
// where it has them (PostgreSQL), else at their next poll. Resuming a
// queue that is not paused does nothing.
func (c *Client) ResumeQueue(ctx context.Context, name string) error {
	if err := validateName("queue", name); err != nil {
		return fmt.Errorf("resume queue: %w", err)
	}
	if err := c.store.QueueResume(ctx, &storage.QueueResumeParams{Queue: name}); err != nil {
		return fmt.Errorf("resume queue %s: %w", name, err)
	}
	c.wakeQueues(name)
	return nil
}

// wakeQueues wakes the attached server's fetch loops of the named queues,
// or of all its queues when none is named.
func (c *Client) wakeQueues(names ...string) {
	if c.srv == nil {
		return
	}
	if len(names) == 0 {
		c.srv.mu.Lock()
		for _, q := range c.srv.queues {
			q.wakeUp()
		}
		c.srv.mu.Unlock()
		return
	}
	for _, name := range names {
		c.srv.wakeQueue(name)
	}
}
