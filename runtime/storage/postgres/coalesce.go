package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jobgen/jobgen/runtime/storage"
)

// insertBatchTimeout bounds one coalesced insert statement. The callers
// stop waiting when their own contexts end; the statement runs on for them
// all, so it has a bound of its own.
const insertBatchTimeout = time.Minute

// maxInsertBatch caps how many single inserts one statement carries.
const maxInsertBatch = 1000

// inserter coalesces concurrent JobInsert calls on the store's pool (group
// commit): a call that arrives while no insert of the store is in flight is
// written at once, alone, on its own goroutine (no hand-off, so a lone
// submit pays nothing for this); calls that arrive while one is in flight are
// written together by the next statement, in one transaction, one commit
// and one round trip. Every call still returns only after its own job is
// committed. Under concurrent submits a commit per job, and a round trip
// per job, bound the submit rate long before the database's CPU does.
type inserter struct {
	mu      sync.Mutex
	running bool
	queue   []*insertReq
	wg      sync.WaitGroup
}

type insertReq struct {
	ctx  context.Context
	p    *storage.JobInsertParams
	res  *storage.JobInsertResult
	err  error
	done chan struct{}
}

// insertCoalesced inserts p through the inserter. When no insert of the
// store is in flight it writes p at once, on the caller's goroutine and
// context; otherwise it queues p for the next statement and waits for its
// result or for ctx to end (then the job may or may not have been
// inserted, as with any statement cut off by its context).
func (s *Store) insertCoalesced(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := &s.inserter
	in.mu.Lock()
	if !in.running {
		in.running = true
		in.mu.Unlock()
		rs, err := s.insert(ctx, s.db, []*storage.JobInsertParams{p}, time.Time{})
		s.insertsDone()
		if err != nil {
			return nil, err
		}
		return rs[0], nil
	}
	req := &insertReq{ctx: ctx, p: p, done: make(chan struct{})}
	in.queue = append(in.queue, req)
	in.mu.Unlock()
	select {
	case <-req.done:
		return req.res, req.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// insertsDone ends the inserter's turn: it writes what queued up meanwhile
// on a goroutine of its own, or marks the inserter idle.
func (s *Store) insertsDone() {
	in := &s.inserter
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.queue) == 0 {
		in.running = false
		return
	}
	in.wg.Add(1)
	go s.runInserts()
}

// runInserts writes the queued inserts, a batch per statement, until the
// queue is empty.
func (s *Store) runInserts() {
	in := &s.inserter
	defer in.wg.Done()
	for {
		in.mu.Lock()
		n := min(len(in.queue), maxInsertBatch)
		if n == 0 {
			in.running = false
			in.mu.Unlock()
			return
		}
		batch := in.queue[:n:n]
		in.queue = in.queue[n:]
		if len(in.queue) == 0 {
			in.queue = nil
		}
		in.mu.Unlock()
		s.insertBatch(batch)
	}
}

// insertBatch writes batch in one statement and hands out the results.
// Requests whose callers have gone are left out. When the statement fails
// with an error of the server (so it was rolled back as a whole), each job
// is written again on its own, so that one job's error (say, a unique key
// that is not valid UTF-8) is not every caller's.
func (s *Store) insertBatch(batch []*insertReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.err = r.ctx.Err()
			close(r.done)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), insertBatchTimeout)
	defer cancel()
	jobs := make([]*storage.JobInsertParams, len(live))
	for i, r := range live {
		jobs[i] = r.p
	}
	res, err := s.insert(ctx, s.db, jobs, time.Time{})
	var pgErr *pgconn.PgError
	if err != nil && len(live) > 1 && errors.As(err, &pgErr) {
		for _, r := range live {
			rs, err := s.insert(ctx, s.db, []*storage.JobInsertParams{r.p}, time.Time{})
			if err == nil {
				r.res = rs[0]
			}
			r.err = err
			close(r.done)
		}
		return
	}
	for i, r := range live {
		if err != nil {
			r.err = err
		} else {
			r.res = res[i]
		}
		close(r.done)
	}
}
