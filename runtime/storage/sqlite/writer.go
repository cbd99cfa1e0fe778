package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/jobgen/jobgen/runtime/storage"
)

// maxGroup caps how many write calls share one transaction.
const maxGroup = 64

// The states of a writeOp.
const (
	opQueued int32 = iota
	opTaken
	opCancelled
)

// writeOp is one write call waiting for the writer.
type writeOp struct {
	fn    func(ctx context.Context, tx *sql.Tx) error
	state atomic.Int32
	done  chan error // receives the outcome once the op was taken
}

// writer runs every write of a Store on its one connection, and commits
// the calls that queued up while a transaction was running together in
// the next one (group commit): a transaction's fixed cost (taking the lock,
// appending to the log, releasing the lock) is paid once for all of them.
// Each call runs inside its own savepoint, so a call that fails is rolled
// back alone. Statements run under the writer's own context, never a
// caller's: interrupting a statement would roll back the whole shared
// transaction. A caller whose context ends before the writer took its call
// gets the context's error and the call never runs; once taken, the call
// runs to its end and the caller gets its true outcome.
type writer struct {
	db *sql.DB

	ops  chan *writeOp
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

func (w *writer) start(db *sql.DB) {
	w.db = db
	w.ops = make(chan *writeOp, maxGroup)
	w.quit = make(chan struct{})
	w.done = make(chan struct{})
	go w.loop()
}

// stop ends the writer after the transaction in progress; calls still
// queued fail with ErrClosed.
func (w *writer) stop() {
	w.once.Do(func() {
		close(w.quit)
		<-w.done
	})
}

// withTx runs fn in a write transaction (BEGIN IMMEDIATE), possibly shared
// with other calls, and returns once that transaction committed or fn
// failed; on the Jobs view of a Tx, in that transaction (see Tx.run).
// Errors go through mapErr with op.
func (s *Store) withTx(ctx context.Context, op string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := s.check(op); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return s.mapErr(op, err)
	}
	if s.view != nil {
		return s.view.run(ctx, s, op, fn)
	}
	o := &writeOp{fn: fn, done: make(chan error, 1)}
	select {
	case s.w.ops <- o:
	case <-ctx.Done():
		return s.mapErr(op, ctx.Err())
	case <-s.w.done:
		return fmt.Errorf("sqlite: %s: %w", op, storage.ErrClosed)
	}
	select {
	case err := <-o.done:
		return s.mapErr(op, err)
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opCancelled) {
			return s.mapErr(op, ctx.Err())
		}
	case <-s.w.done:
		if o.state.CompareAndSwap(opQueued, opCancelled) {
			return fmt.Errorf("sqlite: %s: %w", op, storage.ErrClosed)
		}
	}
	// The writer took the call: its outcome is on the way.
	return s.mapErr(op, <-o.done)
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*writeOp, 0, maxGroup)
	for {
		batch = batch[:0]
		select {
		case o := <-w.ops:
			batch = w.take(batch, o)
		case <-w.quit:
			return
		}
	drain:
		for len(batch) < maxGroup {
			select {
			case o := <-w.ops:
				batch = w.take(batch, o)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			w.run(batch)
			// Let the callers just answered write again first: their next
			// calls then join the next transaction instead of waiting for it.
			runtime.Gosched()
		}
	}
}

// take appends o to batch unless its caller has given up.
func (w *writer) take(batch []*writeOp, o *writeOp) []*writeOp {
	if o.state.CompareAndSwap(opQueued, opTaken) {
		return append(batch, o)
	}
	return batch
}

// run executes batch in one transaction and tells every caller its outcome.
func (w *writer) run(batch []*writeOp) {
	ctx := context.Background()
	errs := make([]error, len(batch))
	reply := func() {
		for i, o := range batch {
			o.done <- errs[i]
		}
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		reply()
		return
	}
	if len(batch) == 1 {
		if errs[0] = batch[0].fn(ctx, tx); errs[0] != nil {
			_ = tx.Rollback()
		} else {
			errs[0] = tx.Commit()
		}
		reply()
		return
	}
	var fatal error
	for i, o := range batch {
		if fatal != nil {
			errs[i] = fatal
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT op"); err != nil {
			fatal, errs[i] = err, err
			continue
		}
		errs[i] = o.fn(ctx, tx)
		if errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO op"); err != nil {
				fatal = err
				continue
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE op"); err != nil {
			fatal = err
		}
	}
	if fatal != nil {
		// The transaction is in an unknown state: undo all of it.
		_ = tx.Rollback()
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fatal
			}
		}
		reply()
		return
	}
	if err := tx.Commit(); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	reply()
}
