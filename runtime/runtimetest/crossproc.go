package runtimetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// The cross-process tests run the processes of one service on stores over
// the same jobs: a worker server on the test's first store, and a second
// server or a detached client on another. With notifications every poll
// interval is a minute and leases last longer than the suite's deadline,
// so whatever crosses between the processes inside the deadline travelled
// by notification. Without them, polls and heartbeats are quick, and they
// carry it.

// Poll intervals and leases of the polling configuration.
const (
	quickPoll  = 20 * time.Millisecond
	quickLease = 300 * time.Millisecond // a heartbeat every 100ms
	// longLease outlives the suite's deadline, so no heartbeat runs.
	longLease = 3 * deadline
)

// serverConfig is the configuration of a cross-process test's servers.
func (ss *stores) serverConfig() runtime.Config {
	if ss.notify {
		return runtime.Config{PollInterval: slowPoll, LeaseDuration: longLease, Logger: quietLogger}
	}
	return runtime.Config{PollInterval: quickPoll, LeaseDuration: quickLease, Logger: quietLogger}
}

// startServer starts a server over store with the handlers of register and
// stops it at the end of the test.
func (ss *stores) startServer(t *testing.T, store storage.Storage, register func(*runtime.Server)) *runtime.Server {
	t.Helper()
	return ss.startServerWith(t, store, ss.serverConfig(), register)
}

// startServerWith is startServer with the configuration cfg.
func (ss *stores) startServerWith(t *testing.T, store storage.Storage, cfg runtime.Config, register func(*runtime.Server)) *runtime.Server {
	t.Helper()
	srv, err := runtime.NewServer(store, cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	register(srv)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if err := srv.StopAndCancel(ctx); err != nil {
			t.Errorf("StopAndCancel: %v", err)
		}
	})
	return srv
}

// worker starts the worker process: a server on the test's first store
// working kind work with h. It returns the server's store, whose claims
// the test may count.
func (ss *stores) worker(t *testing.T, h runtime.HandlerFunc[Args, Result]) *hookStore {
	t.Helper()
	store := &hookStore{Storage: ss.first(t)}
	ss.startServer(t, store.wrap(true), func(s *runtime.Server) { register(t, s, work, h) })
	return store
}

// observer returns a detached client on another store and that store.
func (ss *stores) observer(t *testing.T) (*runtime.Client, *hookStore) {
	t.Helper()
	store := &hookStore{Storage: ss.another(t)}
	cfg := runtime.ClientConfig{PollInterval: quickPoll, Logger: quietLogger}
	if ss.notify {
		cfg.PollInterval = slowPoll
	}
	c, err := runtime.NewClient(store.wrap(true), cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, store
}

// otherServer starts a second server on another store that works only the
// kind other, and returns its store.
func (ss *stores) otherServer(t *testing.T) (*runtime.Server, *hookStore) {
	t.Helper()
	store := &hookStore{Storage: ss.another(t)}
	srv := ss.startServer(t, store.wrap(true), func(s *runtime.Server) {
		register(t, s, other, func(context.Context, *runtime.Job[Args]) (runtime.NoOutput, error) { return runtime.NoOutput{}, nil })
	})
	return srv, store
}

// releaseAfterWaitReads closes release once a read of job id by store
// finds it unfinished: the waiter that made it has to be woken later.
func releaseAfterWaitReads(store *hookStore, release chan struct{}) {
	var once bool
	store.setAfterGet(func(job *storage.Job) {
		if !once && !job.State.Terminal() {
			once = true // only the waiter reads through this store
			close(release)
		}
	})
}

// testCrossWakeup: a submit through another server's attached client wakes
// the worker, whose idle loop would otherwise sleep for a minute.
func testCrossWakeup(t *testing.T, ss *stores) {
	started := make(chan time.Time, 1)
	worker := ss.worker(t, startedOnce(started))
	srv, _ := ss.otherServer(t)
	eventually(t, "the worker's first claim", func() bool { return worker.claims.Load() >= 1 })
	h := must(work.Submit(ctxT(t), srv.Client(), Args{N: 5}, nil))
	recv(t, started, "the worker to start a job submitted by another process")
	if res := must(h.Wait(ctxT(t))); res.N != 5 {
		t.Fatalf("result %d, want 5", res.N)
	}
}

// testCrossWaitFor: a detached client's WaitFor of a job another process
// runs returns when the job finishes, though it read the job unfinished.
func testCrossWaitFor(t *testing.T, ss *stores) {
	release := make(chan struct{})
	ss.worker(t, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
		<-release
		return Result{N: j.Args.N * 2}, nil
	})
	client, store := ss.observer(t)
	releaseAfterWaitReads(store, release)
	h := must(work.Submit(ctxT(t), client, Args{N: 21}, nil))
	if res, err := h.Wait(ctxT(t)); err != nil || res.N != 42 {
		t.Fatalf("Wait = %+v, %v; want 42", res, err)
	}
}

// testCrossWaitForAttached: the same through another server's attached
// client, whose waiters hear through that server's subscription.
func testCrossWaitForAttached(t *testing.T, ss *stores) {
	release := make(chan struct{})
	ss.worker(t, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
		<-release
		return Result{N: j.Args.N + 1}, nil
	})
	srv, store := ss.otherServer(t)
	releaseAfterWaitReads(store, release)
	h := must(work.Submit(ctxT(t), srv.Client(), Args{N: 1}, nil))
	if res, err := h.Wait(ctxT(t)); err != nil || res.N != 2 {
		t.Fatalf("Wait = %+v, %v; want 2", res, err)
	}
}

// testCrossProgress: the progress a job reports in the worker reaches a
// detached client in another process, and its subscription ends when the
// job finishes.
func testCrossProgress(t *testing.T, ss *stores) {
	if !ss.notify {
		t.Skip("runtime: a detached client's progress subscription over a backend without notifications is not closed when the job finishes (Client.SubscribeProgress promises it is)")
	}
	started, proceed := make(chan int64, 1), make(chan struct{})
	ss.worker(t, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
		started <- j.ID
		<-proceed
		for p := 1; p <= 3; p++ {
			j.ReportProgress(float64(p*25), "step")
		}
		return Result{}, nil
	})
	client, _ := ss.observer(t)
	h := must(work.Submit(ctxT(t), client, Args{}, nil))
	recv(t, started, "job start")
	updates, cancel := h.Progress()
	defer cancel()
	close(proceed)
	var got []float64
	timeout := time.After(deadline)
	for done := false; !done; {
		select {
		case p, ok := <-updates:
			if !ok {
				done = true
				break
			}
			if n := len(got); n > 0 && p.Percent <= got[n-1] {
				t.Fatalf("progress %v after %v", p.Percent, got)
			}
			got = append(got, p.Percent)
		case <-timeout:
			t.Fatalf("the progress subscription is still open %v after the job started (updates %v)", deadline, got)
		}
	}
	if len(got) == 0 {
		t.Fatal("no progress reached the other process")
	}
}

// testCrossAbort: a detached client's abort of a job running in the worker
// cancels the job there, and its WaitFor sees the job aborted.
func testCrossAbort(t *testing.T, ss *stores) {
	started, causes := make(chan int64, 1), make(chan error, 1)
	ss.worker(t, blockUntilCancelled(started, causes))
	client, _ := ss.observer(t)
	h := must(work.Submit(ctxT(t), client, Args{}, nil))
	recv(t, started, "job start")
	if err := h.Abort(ctxT(t)); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if cause := recv(t, causes, "the worker to cancel the job"); !errors.Is(cause, runtime.ErrAbortRequested) {
		t.Fatalf("handler context cause %v, want ErrAbortRequested", cause)
	}
	if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrAborted) {
		t.Fatalf("Wait: %v, want ErrAborted", err)
	}
}

// testCrossAbortPending: a detached client's abort of a pending job ends
// the wait of another process's attached client.
func testCrossAbortPending(t *testing.T, ss *stores) {
	srv, store := ss.otherServer(t)
	client, _ := ss.observer(t)
	h := must(work.Submit(ctxT(t), srv.Client(), Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
	release, aborted := make(chan struct{}), make(chan error, 1)
	releaseAfterWaitReads(store, release)
	go func() {
		<-release
		aborted <- client.Abort(ctxT(t), h.ID)
	}()
	if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrAborted) {
		t.Fatalf("Wait: %v, want ErrAborted", err)
	}
	if err := recv(t, aborted, "the abort"); err != nil {
		t.Fatalf("Abort: %v", err)
	}
}
