package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

func stopCtx(t *testing.T) context.Context { return ctxT(t) }

func testStopDrains(t *testing.T, newStore NewStore) {
	started := make(chan int64, 1)
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			select { // the job's own work: 300ms
			case <-time.After(300 * time.Millisecond):
				return Result{N: 1}, nil
			case <-ctx.Done():
				return Result{}, context.Cause(ctx)
			}
		})
	})
	if err := e.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	if err := e.srv.Stop(stopCtx(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := getJob(t, e, h.ID); got.State != storage.StateCompleted {
		t.Fatalf("state after Stop %s, want completed (drained)", got.State)
	}
}

func testStopNoDrain(t *testing.T, newStore NewStore) {
	started := make(chan int64, 1)
	e := newEnv(t, newStore, runtime.Config{StopTimeout: -1}, func(s *runtime.Server) {
		register(t, s, work, blockUntilCancelled(started, nil))
	})
	if err := e.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	if err := e.srv.Stop(stopCtx(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	got := getJob(t, e, h.ID)
	if got.State != storage.StatePending || got.Attempt != 0 {
		t.Fatalf("cut job: state %s attempt %d, want pending with attempt 0", got.State, got.Attempt)
	}
}

func testClaimedDuringStop(t *testing.T, newStore NewStore) {
	ran := make(chan int64, 1)
	e := newLoopEnv(t, newStore, runtime.Config{PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			ran <- j.ID
			return Result{}, nil
		})
	})
	inClaim, release := make(chan struct{}), make(chan struct{})
	e.store.setAfterClaim(func(res *storage.JobClaimResult) {
		if len(res.Jobs) == 0 {
			return
		}
		close(inClaim)
		<-release
	})
	if err := e.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, inClaim, "the claim of the job")
	stopped := make(chan error, 1)
	go func() { stopped <- e.srv.Stop(context.Background()) }()
	// Stop has begun once the attached client refuses submits.
	eventually(t, "stop to begin", func() bool {
		_, err := work.Submit(context.Background(), e.client, Args{}, nil)
		return errors.Is(err, runtime.ErrServerClosed)
	})
	close(release)
	if err := recv(t, stopped, "Stop"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case id := <-ran:
		t.Fatalf("job %d ran although it was claimed during Stop", id)
	default:
	}
	got := getJob(t, e, h.ID)
	if got.State != storage.StatePending || got.Attempt != 0 {
		t.Fatalf("state %s attempt %d, want pending with attempt 0", got.State, got.Attempt)
	}
	if ev := waitEvent(t, evs, h.ID, runtime.EventReleased); ev.Err != nil {
		t.Errorf("EventReleased of the job claimed during Stop has error %v", ev.Err)
	}
}

func testSubmitAfterStop(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) { register(t, s, work, noop) })
	if err := e.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Stop(stopCtx(t)); err != nil {
		t.Fatal(err)
	}
	before := e.store.inserts.Load()
	if _, err := work.Submit(ctxT(t), e.client, Args{}, nil); !errors.Is(err, runtime.ErrServerClosed) {
		t.Fatalf("Submit after Stop: %v, want ErrServerClosed", err)
	}
	if n := e.store.inserts.Load() - before; n != 0 {
		t.Fatalf("Submit after Stop wrote %d inserts", n)
	}
	if err := e.srv.Start(context.Background()); !errors.Is(err, runtime.ErrServerClosed) {
		t.Fatalf("Start after Stop: %v, want ErrServerClosed", err)
	}
	// A detached client still submits, and a new server picks the job up.
	detached := must(runtime.NewClient(e.store, runtime.ClientConfig{}))
	defer detached.Close()
	h := must(work.Submit(ctxT(t), detached, Args{N: 5}, nil))
	srv2 := must(runtime.NewServer(e.store, runtime.Config{Logger: quietLogger, PollInterval: 10 * time.Millisecond}))
	register(t, srv2, work, noop)
	if err := srv2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv2.Stop(context.Background())
	if res := must(work.WaitFor(ctxT(t), detached, h.ID)); res.N != 5 {
		t.Fatalf("result %d, want 5", res.N)
	}
}

// testStopReportsStuckHandlers: a handler that ignores its context cannot
// be stopped; Stop says which jobs are stuck instead of hanging, and once
// the handler returns, the job is released and Stop reports success.
func testStopReportsStuckHandlers(t *testing.T, newStore NewStore) {
	started, release := make(chan int64, 1), make(chan struct{})
	e := newEnv(t, newStore, runtime.Config{StopTimeout: -1}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			<-release // ignores ctx
			return Result{}, context.Cause(ctx)
		})
	})
	if err := e.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	err := e.srv.Stop(stopCtx(t))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(h.ID)) {
		t.Fatalf("Stop with a stuck handler: %v, want an error naming job %d", err, h.ID)
	}
	close(release)
	if err := e.srv.Stop(stopCtx(t)); err != nil {
		t.Fatalf("Stop after the handler returned: %v", err)
	}
	got := getJob(t, e, h.ID)
	if got.State != storage.StatePending || got.Attempt != 0 {
		t.Fatalf("state %s attempt %d, want the cut job pending with attempt 0", got.State, got.Attempt)
	}
}
