package runtimetest

import (
	"context"
	"errors"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/storagetest"
)

// txEnv is a transactional-submit test: a server on the test's first store
// working kind work, its typed client, and transactions on its database.
type txEnv struct {
	t      *testing.T
	ss     *stores
	store  *hookStore
	client runtime.KindClient[Args, Result]
	// wake: a commit wakes the server (by the backend's notification or
	// the view's commit hook), so its poll interval is one no test waits
	// for; else it polls quickly.
	wake bool
}

// newTxEnv starts the server with h once it knows how a commit reaches it,
// and waits for its first claim, so that a job the test commits later is
// found by a wake-up (or a poll), not by the start.
func newTxEnv(t *testing.T, ss *stores, h runtime.HandlerFunc[Args, Result]) *txEnv {
	t.Helper()
	if ss.b.Begin == nil {
		t.Skip("the backend has no transactions")
	}
	probe := ss.b.Begin(t, ss.base)
	_, observes := probe.Jobs.(storage.CommitObserver)
	if err := probe.Rollback(); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	e := &txEnv{t: t, ss: ss, wake: observes || ss.notify}
	e.store = &hookStore{Storage: ss.first(t)}
	cfg := ss.serverConfig()
	if e.wake {
		cfg.PollInterval = slowPoll
	}
	srv := ss.startServerWith(t, e.store.wrap(true), cfg, func(s *runtime.Server) { register(t, s, work, h) })
	e.client = runtime.NewKindClient(work, srv.Client())
	eventually(t, "the server's first claim", func() bool { return e.store.claims.Load() >= 1 })
	return e
}

// begin begins a transaction on the test's database.
func (e *txEnv) begin() *storagetest.Tx { return e.ss.b.Begin(e.t, e.ss.base) }

// submit submits args through the typed client inside tx.
func (e *txEnv) submit(ctx context.Context, tx *storagetest.Tx, args Args) runtime.KindHandle[Args, Result] {
	e.t.Helper()
	h, err := e.client.Submit(runtime.InTx(ctx, tx.Jobs), args, nil)
	if err != nil {
		e.t.Fatalf("Submit in a transaction: %v", err)
	}
	return h
}

// notStored fails the test unless job id is unknown outside the
// transaction.
func (e *txEnv) notStored(id runtime.ID[Args], when string) {
	e.t.Helper()
	if _, err := e.client.Get(ctxT(e.t), id); !errors.Is(err, runtime.ErrNotFound) {
		e.t.Fatalf("Get of job %d %s: %v, want ErrNotFound", id, when, err)
	}
}

// echo is a handler that reports each start and returns its argument.
func echo(started chan<- int64) runtime.HandlerFunc[Args, Result] {
	return func(_ context.Context, j *runtime.Job[Args]) (Result, error) {
		started <- j.ID
		return Result{N: j.Args.N}, nil
	}
}

// testTxCommit: a job submitted through the typed client inside a
// caller's transaction exists once the transaction commits, not before,
// and the same-process server runs it then: woken by the commit where the
// backend can tell (within the suite's deadline, though it polls once a
// minute), else at its next poll.
func testTxCommit(t *testing.T, ss *stores) {
	started := make(chan int64, 1)
	e := newTxEnv(t, ss, echo(started))
	tx := e.begin()
	h := e.submit(ctxT(t), tx, Args{N: 4})
	e.notStored(h.ID, "before the commit")
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if id := recv(t, started, "the committed job to start"); id != int64(h.ID) {
		t.Fatalf("started job %d, want %d", id, h.ID)
	}
	if res, err := h.Wait(ctxT(t)); err != nil || res.N != 4 {
		t.Fatalf("Wait = %+v, %v; want 4", res, err)
	}
}

// testTxRollback: a job submitted inside a transaction that rolls back
// never exists: its handle's Wait and the client's Get say ErrNotFound,
// and the server never runs it.
func testTxRollback(t *testing.T, ss *stores) {
	started := make(chan int64, 2)
	e := newTxEnv(t, ss, echo(started))
	tx := e.begin()
	h := e.submit(ctxT(t), tx, Args{N: 1})
	if err := tx.Rollback(); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrNotFound) || errors.Is(err, runtime.ErrDeleted) {
		t.Fatalf("Wait of a rolled-back job: %v, want ErrNotFound", err)
	}
	e.notStored(h.ID, "after the rollback")
	// A job committed after it is the first and only one the server runs.
	tx = e.begin()
	next := e.submit(ctxT(t), tx, Args{N: 2})
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if id := recv(t, started, "the committed job to start"); id != int64(next.ID) {
		t.Fatalf("started job %d, want only the committed %d", id, next.ID)
	}
	must(next.Wait(ctxT(t)))
	if n := len(started); n != 0 {
		t.Fatalf("%d more jobs started, want none", n)
	}
}

// testTxOutlivesContext: the context of a transactional submit may end
// before the transaction commits; the commit still stores the job and
// wakes the server, whose wake-up does not hang on that context.
func testTxOutlivesContext(t *testing.T, ss *stores) {
	started := make(chan int64, 1)
	e := newTxEnv(t, ss, echo(started))
	tx := e.begin()
	ctx, cancel := context.WithCancel(ctxT(t))
	h := e.submit(ctx, tx, Args{N: 9})
	cancel()
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit after the submit's context ended: %v", err)
	}
	recv(t, started, "the job committed after its submit's context ended")
	if res, err := h.Wait(ctxT(t)); err != nil || res.N != 9 {
		t.Fatalf("Wait = %+v, %v; want 9", res, err)
	}
}
