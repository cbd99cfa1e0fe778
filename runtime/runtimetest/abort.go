package runtimetest

import (
	"context"
	"errors"
	"math/rand/v2"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

var errTest = errors.New("test error")

// blockUntilCancelled returns a handler that reports its start, waits for
// its context and returns the context's cause.
func blockUntilCancelled(started chan<- int64, causes chan<- error) runtime.HandlerFunc[Args, Result] {
	return func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
		started <- j.ID
		<-ctx.Done()
		if causes != nil {
			causes <- context.Cause(ctx)
		}
		return Result{}, context.Cause(ctx)
	}
}

func testAbortRunningLocal(t *testing.T, newStore NewStore) {
	started, causes := make(chan int64, 1), make(chan error, 1)
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, blockUntilCancelled(started, causes))
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	finishedBefore := e.store.finishedJobs.Load()
	if err := e.client.Abort(ctxT(t), h.ID); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if cause := recv(t, causes, "handler cancellation"); !errors.Is(cause, runtime.ErrAbortRequested) {
		t.Fatalf("handler context cause %v, want ErrAbortRequested", cause)
	}
	if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrAborted) {
		t.Fatalf("Wait: %v, want ErrAborted", err)
	}
	if n := e.store.aborts.Load(); n != 0 {
		t.Errorf("local abort made %d storage abort calls, want 0", n)
	}
	if n := e.store.finishedJobs.Load() - finishedBefore; n != 1 {
		t.Errorf("%d outcome writes, want exactly the handler's one", n)
	}
	if got := getJob(t, e, h.ID); got.State != storage.StateAborted || got.ErrorCode != runtime.CodeAborted {
		t.Fatalf("stored state %s (%s), want aborted", got.State, got.ErrorCode)
	}
}

func testAbortPending(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) { register(t, s, work, noop) })
	e.start()
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
	if err := h.Abort(ctxT(t)); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if got := getJob(t, e, h.ID); got.State != storage.StateAborted {
		t.Fatalf("state %s, want aborted", got.State)
	}
	if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrAborted) {
		t.Fatalf("Wait: %v, want ErrAborted", err)
	}
	waitEvent(t, evs, h.ID, runtime.EventAborted)
}

func testAbortFinished(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) { register(t, s, work, noop) })
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{N: 2}, nil))
	must(h.Wait(ctxT(t)))
	err := h.Abort(ctxT(t))
	if !errors.Is(err, runtime.ErrFinished) {
		t.Fatalf("Abort of a completed job: %v, want ErrFinished", err)
	}
	if got := getJob(t, e, h.ID); got.State != storage.StateCompleted {
		t.Fatalf("state %s, want completed", got.State)
	}
	if err := e.client.Abort(ctxT(t), 1<<40); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Abort of an unknown id: %v, want ErrNotFound", err)
	}
}

func testAbortStorageError(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) { register(t, s, work, noop) })
	e.start()
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
	e.store.setAbortErr(errTest)
	if err := h.Abort(ctxT(t)); !errors.Is(err, errTest) {
		t.Fatalf("Abort: %v, want the storage error", err)
	}
	// Events are delivered in order: once the marker job's submit event
	// arrives, an aborted event for the first job would have come before it.
	marker := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
	for ev := recv(t, evs, "events"); ev.JobID != marker.ID; ev = recv(t, evs, "events") {
		if ev.Kind == runtime.EventAborted {
			t.Fatalf("an abort that failed in storage emitted %v", ev.Kind)
		}
	}
	if got := getJob(t, e, h.ID); got.State != storage.StatePending {
		t.Fatalf("state %s, want pending", got.State)
	}
}

// testAbortRacingCompletion fires an abort at random moments around a
// handler's return, many times: each job ends in exactly one terminal
// state, and Abort's answer agrees with it.
func testAbortRacingCompletion(t *testing.T, newStore NewStore) {
	const trials = 1000
	var gates sync.Map // job N -> chan struct{} closed when its handler may return
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			gate, _ := gates.Load(j.Args.N)
			<-gate.(chan struct{})
			if j.Args.N%2 == 0 {
				return Result{N: j.Args.N}, nil // success even when aborted
			}
			return Result{}, context.Cause(ctx) // nil unless aborted
		})
	})
	e.start()
	for i := range trials {
		gate := make(chan struct{})
		gates.Store(i, gate)
		h := must(work.Submit(ctxT(t), e.client, Args{N: i}, nil))
		go func() {
			for range rand.IntN(4) {
				goruntime.Gosched()
			}
			close(gate)
		}()
		for range rand.IntN(4) {
			goruntime.Gosched()
		}
		abortErr := h.Abort(ctxT(t))
		_, waitErr := h.Wait(ctxT(t))
		got := getJob(t, e, h.ID)
		switch {
		case abortErr == nil && got.State == storage.StateAborted:
			if !errors.Is(waitErr, runtime.ErrAborted) {
				t.Fatalf("trial %d: aborted job, Wait returned %v", i, waitErr)
			}
		case abortErr == nil && got.State == storage.StateCompleted,
			errors.Is(abortErr, runtime.ErrFinished) && got.State == storage.StateCompleted:
			if waitErr != nil {
				t.Fatalf("trial %d: completed job, Wait returned %v", i, waitErr)
			}
		default:
			t.Fatalf("trial %d: Abort returned %v, Wait %v, stored state %s", i, abortErr, waitErr, got.State)
		}
	}
}
