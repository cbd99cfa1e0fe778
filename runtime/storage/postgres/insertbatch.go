package postgres

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// maxInsertBatch caps how many single inserts one batched statement writes.
const maxInsertBatch = 1000

// insertBatcher gives single inserts a group commit. An insert that finds
// no other in flight runs at once, alone, so a lone submitter pays nothing.
// Inserts that arrive while one is in flight wait and then go together as
// one multi-row statement, one transaction: each commit costs a WAL flush,
// so many goroutines submitting one job at a time get through far more
// jobs per second when their commits are shared. One statement is in
// flight at a time; whatever arrives meanwhile forms the next batch, and
// the batch writer yields once before taking it, so that callers it has
// just released, who often submit again at once, join it rather than wait
// a whole statement for the one after. Each caller still returns only
// after its own job is committed.
type insertBatcher struct {
	mu      sync.Mutex
	busy    bool          // an insert statement is in flight
	pending []*insertCall // waiting for the next batch
	closed  bool
	wg      sync.WaitGroup // the goroutine writing batches
	ctx     context.Context
	cancel  context.CancelFunc
}

// insertCall is one caller's insert waiting in a batch.
type insertCall struct {
	ctx  context.Context
	p    *storage.JobInsertParams
	res  *storage.JobInsertResult
	err  error
	done chan struct{} // closed once res or err is set
}

func (b *insertBatcher) init() {
	b.ctx, b.cancel = context.WithCancel(context.Background())
}

// insert inserts one job, which passed checkInserts, through the batcher.
func (b *insertBatcher) insert(ctx context.Context, s *Store, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, storage.ErrClosed
	}
	if !b.busy {
		b.busy = true
		b.mu.Unlock()
		rs, err := s.insertChecked(ctx, []*storage.JobInsertParams{p}, time.Time{})
		b.next(s)
		if err != nil {
			return nil, err
		}
		return rs[0], nil
	}
	c := &insertCall{ctx: ctx, p: p, done: make(chan struct{})}
	b.pending = append(b.pending, c)
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	for i, pc := range b.pending {
		if pc == c { // not yet written: withdraw it, nothing is stored
			b.pending = append(b.pending[:i], b.pending[i+1:]...)
			b.mu.Unlock()
			return nil, ctx.Err()
		}
	}
	b.mu.Unlock()
	// In flight: like any statement cancelled mid-way, it may still commit.
	select {
	case <-c.done:
		return c.res, c.err
	default:
		return nil, ctx.Err()
	}
}

// next hands the pending inserts, if any, to a goroutine that writes them
// batch after batch until none are left; otherwise it marks the batcher
// idle. The caller's own insert has returned, so it does not wait for
// other callers' writes.
func (b *insertBatcher) next(s *Store) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 || b.closed {
		b.busy = false
		return
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			// Let the callers just released submit again first: their next
			// inserts then join this batch instead of waiting for it.
			runtime.Gosched()
			batch := b.take()
			if batch == nil {
				return
			}
			b.write(s, batch)
		}
	}()
}

// take removes the next batch from pending, or marks the batcher idle and
// returns nil when there is none.
func (b *insertBatcher) take() []*insertCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		b.busy = false
		return nil
	}
	n := min(len(b.pending), maxInsertBatch)
	batch := b.pending[:n:n]
	b.pending = append([]*insertCall(nil), b.pending[n:]...)
	return batch
}

// write inserts a batch in one statement and hands every caller its result.
// When the database refuses a value of one job, the others are inserted
// all the same. The statement is cancelled when every caller has given
// up, or when the store closes.
func (b *insertBatcher) write(s *Store, batch []*insertCall) {
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	left := atomic.Int64{}
	left.Store(int64(len(batch)))
	jobs := make([]*storage.JobInsertParams, len(batch))
	for i, c := range batch {
		jobs[i] = c.p
		stop := context.AfterFunc(c.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	rs, err := s.insertChecked(ctx, jobs, time.Time{})
	if isDataError(err) && len(batch) > 1 {
		// The database refused a value of one job: the statement wrote
		// nothing, so each job goes again on its own, and only the one
		// that carries the value fails.
		for _, c := range batch {
			if rs, err := s.insertChecked(ctx, []*storage.JobInsertParams{c.p}, time.Time{}); err != nil {
				c.err = err
			} else {
				c.res = rs[0]
			}
			close(c.done)
		}
		return
	}
	for i, c := range batch {
		if err != nil {
			c.err = err
		} else {
			c.res = rs[i]
		}
		close(c.done)
	}
}

// close fails the inserts still waiting, cancels the one in flight and
// waits for the batch writer to end.
func (b *insertBatcher) close() {
	b.mu.Lock()
	b.closed = true
	pending := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, c := range pending {
		c.err = storage.ErrClosed
		close(c.done)
	}
	b.cancel()
	b.wg.Wait()
}
