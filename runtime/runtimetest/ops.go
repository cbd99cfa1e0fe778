package runtimetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// testPauseResume: a paused queue starts nothing, neither from the fetch
// loop nor from the submit that claims; submits are accepted; a resume by
// the attached client starts the job at once (the poll interval is an
// hour), and the job's queue keeps no other queue waiting.
func testPauseResume(t *testing.T, newStore NewStore) {
	started := make(chan int64, 4)
	e := newEnv(t, newStore, runtime.Config{PollInterval: time.Hour}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			return Result{}, nil
		})
		register(t, s, other, func(ctx context.Context, j *runtime.Job[Args]) (runtime.NoOutput, error) {
			started <- j.ID
			return runtime.NoOutput{}, nil
		})
	})
	e.start()
	if err := e.client.PauseQueue(ctxT(t), runtime.DefaultQueue); err != nil {
		t.Fatalf("PauseQueue: %v", err)
	}
	claims := e.store.claims.Load() + e.store.insertClaims.Load()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	// The submit claimed (with the insert, or by waking the loop) and
	// got nothing.
	eventually(t, "a claim after the submit", func() bool { return e.store.claims.Load()+e.store.insertClaims.Load() > claims })
	if got := getJob(t, e, h.ID); got.State != storage.StatePending {
		t.Fatalf("job in a paused queue is %s, want pending", got.State)
	}
	// Another queue runs meanwhile.
	side := must(other.Submit(ctxT(t), e.client, Args{}, nil))
	if id := recv(t, started, "the side queue's job"); id != side.ID {
		t.Fatalf("started job %d, want the side queue's %d", id, side.ID)
	}
	qs := must(e.client.Queues(ctxT(t)))
	if len(qs) == 0 || qs[0].Name != runtime.DefaultQueue || !qs[0].Paused || qs[0].Pending != 1 {
		t.Errorf("Queues = %+v, want the default queue paused with 1 pending job first", qs)
	}
	if err := e.client.ResumeQueue(ctxT(t), runtime.DefaultQueue); err != nil {
		t.Fatalf("ResumeQueue: %v", err)
	}
	if id := recv(t, started, "the job after resume"); id != h.ID {
		t.Fatalf("started job %d, want %d", id, h.ID)
	}
	must(h.Wait(ctxT(t)))
}

// testPauseElsewhere: a pause and resume by a detached client (another
// process, as far as the server can tell) hold for the server too.
func testPauseElsewhere(t *testing.T, newStore NewStore) {
	var runs atomic.Int64
	e := newEnv(t, newStore, runtime.Config{PollInterval: 5 * time.Millisecond}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			runs.Add(1)
			return Result{}, nil
		})
	})
	ops := must(runtime.NewClient(e.store.Storage, runtime.ClientConfig{Logger: quietLogger}))
	t.Cleanup(func() { ops.Close() })
	// Paused before the server starts, and before the queue has a job.
	if err := ops.PauseQueue(ctxT(t), runtime.DefaultQueue); err != nil {
		t.Fatalf("PauseQueue: %v", err)
	}
	e.start()
	h := must(work.Submit(ctxT(t), ops, Args{}, nil))
	claims := e.store.claims.Load()
	eventually(t, "two polls after the submit", func() bool { return e.store.claims.Load() >= claims+2 })
	if n := runs.Load(); n != 0 {
		t.Fatalf("%d runs in a paused queue", n)
	}
	if err := ops.ResumeQueue(ctxT(t), runtime.DefaultQueue); err != nil {
		t.Fatalf("ResumeQueue: %v", err)
	}
	must(work.WaitFor(ctxT(t), ops, h.ID))
}

// testRetryFailed: a failed job retried by the client runs again with a
// fresh budget; jobs that are not failed or aborted are refused.
func testRetryFailed(t *testing.T, newStore NewStore) {
	var fail atomic.Bool
	fail.Store(true)
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			if fail.Load() {
				return Result{}, runtime.Permanent(errTest)
			}
			return Result{N: j.Attempt}, nil
		})
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrFailed) {
		t.Fatalf("Wait: %v, want ErrFailed", err)
	}
	fail.Store(false)
	if _, err := e.client.Retry(ctxT(t), h.ID, nil); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	res, err := h.Wait(ctxT(t))
	if err != nil || res.N != 1 {
		t.Fatalf("Wait after retry: %+v, %v; want success on attempt 1 of a fresh budget", res, err)
	}
	if _, err := e.client.Retry(ctxT(t), h.ID, nil); !errors.Is(err, runtime.ErrNotRetryable) {
		t.Errorf("Retry of a completed job: %v, want ErrNotRetryable", err)
	}
	pending := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
	if _, err := e.client.Retry(ctxT(t), pending.ID, nil); !errors.Is(err, runtime.ErrNotRetryable) {
		t.Errorf("Retry of a pending job: %v, want ErrNotRetryable", err)
	}
	if _, err := e.client.Retry(ctxT(t), pending.ID+1000, nil); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Retry of an unknown job: %v, want ErrNotFound", err)
	}
}

// testAbortManyRunning: AbortMany cancels a job running in the attached
// server and aborts a pending one.
func testAbortManyRunning(t *testing.T, newStore NewStore) {
	started, causes := make(chan int64, 1), make(chan error, 1)
	e := newEnv(t, newStore, runtime.Config{LeaseDuration: time.Minute}, func(s *runtime.Server) {
		register(t, s, work, blockUntilCancelled(started, causes))
	})
	e.start()
	running := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	pending := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
	n, err := e.client.AbortMany(ctxT(t), runtime.JobFilter{Kinds: []string{work.Name()}}, nil)
	if err != nil || n != 2 {
		t.Fatalf("AbortMany = %d, %v; want 2", n, err)
	}
	if cause := recv(t, causes, "handler cancellation"); !errors.Is(cause, runtime.ErrAbortRequested) {
		t.Fatalf("handler context cause %v, want ErrAbortRequested", cause)
	}
	if _, err := running.Wait(ctxT(t)); !errors.Is(err, runtime.ErrAborted) {
		t.Errorf("Wait of the running job: %v, want ErrAborted", err)
	}
	if got := getJob(t, e, pending.ID); got.State != storage.StateAborted {
		t.Errorf("pending job is %s, want aborted", got.State)
	}
	// Delete: finished ones by default, never running, pending when asked.
	if n, err := e.client.DeleteMany(ctxT(t), runtime.JobFilter{Kinds: []string{work.Name()}}, nil); err != nil || n != 2 {
		t.Errorf("DeleteMany = %d, %v; want 2", n, err)
	}
}

// testOpsBadInput: each kind of bad input is a typed error and changes
// nothing.
func testOpsBadInput(t *testing.T, newStore NewStore) {
	started := make(chan int64, 1)
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, blockUntilCancelled(started, nil))
	})
	e.start()
	running := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	pending := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"unknown state", second(e.client.List(ctx, &runtime.ListOpts{Filter: runtime.JobFilter{States: []storage.State{"done"}}})), runtime.ErrUnknownState},
		{"malformed cursor", second(e.client.List(ctx, &runtime.ListOpts{Cursor: "x"})), runtime.ErrInvalidCursor},
		{"delete everything", second(e.client.DeleteMany(ctx, runtime.JobFilter{}, &runtime.DeleteOpts{Pending: true})), runtime.ErrEmptyFilter},
		{"retry everything", second(e.client.RetryMany(ctx, runtime.JobFilter{}, nil)), runtime.ErrEmptyFilter},
		{"abort everything", second(e.client.AbortMany(ctx, runtime.JobFilter{}, nil)), runtime.ErrEmptyFilter},
		{"delete running", e.client.Delete(ctx, running.ID, &runtime.DeleteOpts{Pending: true}), runtime.ErrNotDeletable},
		{"delete pending", e.client.Delete(ctx, pending.ID, nil), runtime.ErrNotDeletable},
		{"delete unknown", e.client.Delete(ctx, pending.ID+1000, nil), runtime.ErrNotFound},
		{"pause bad name", e.client.PauseQueue(ctx, "Not A Queue"), runtime.ErrInvalidName},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if got := getJob(t, e, running.ID); got.State != storage.StateRunning {
		t.Errorf("running job is %s after the bad calls", got.State)
	}
	if got := getJob(t, e, pending.ID); got.State != storage.StatePending {
		t.Errorf("pending job is %s after the bad calls", got.State)
	}
	// Unknown names simply match nothing.
	page := must(e.client.List(ctx, &runtime.ListOpts{Filter: runtime.JobFilter{Queues: []string{"nowhere"}}}))
	if len(page.Jobs) != 0 || page.Next != "" {
		t.Errorf("List of an unknown queue: %d jobs, next %q", len(page.Jobs), page.Next)
	}
	if err := e.client.Delete(ctx, pending.ID, &runtime.DeleteOpts{Pending: true}); err != nil {
		t.Errorf("Delete of a pending job with Pending: %v", err)
	}
}

// second returns the error of a call with two results.
func second[T any](_ T, err error) error { return err }
