package runtimetest

import (
	"context"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// slowPoll is a poll interval no test waits for: a job that starts within
// the suite's deadline was woken by something else.
const slowPoll = time.Minute

// startedOnce returns a handler that reports each start and completes.
func startedOnce(started chan<- time.Time) runtime.HandlerFunc[Args, Result] {
	return func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
		started <- time.Now()
		return Result{N: j.Args.N}, nil
	}
}

// idleAfterFirstClaim waits until the loop has made its first, empty claim,
// so a later start cannot come from that claim.
func idleAfterFirstClaim(t *testing.T, e *env) {
	t.Helper()
	eventually(t, "first claim", func() bool { return e.store.claims.Load() >= 1 })
}

func testDirectWakeup(t *testing.T, newStore NewStore) {
	started := make(chan time.Time, 1)
	e := newLoopEnv(t, newStore, runtime.Config{PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, startedOnce(started))
	})
	e.start()
	idleAfterFirstClaim(t, e)
	h := must(work.Submit(ctxT(t), e.client, Args{N: 7}, nil))
	recv(t, started, "start after an attached submit")
	if res := must(h.Wait(ctxT(t))); res.N != 7 {
		t.Fatalf("result %d, want 7", res.N)
	}
}

func testWakeupWhileBusy(t *testing.T, newStore NewStore) {
	started := make(chan time.Time, 1)
	e := newLoopEnv(t, newStore, runtime.Config{PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, startedOnce(started))
	})
	inClaim, release := make(chan struct{}), make(chan struct{})
	var blocked bool
	e.store.setAfterClaim(func(res *storage.JobClaimResult) {
		if blocked || len(res.Jobs) > 0 {
			return
		}
		blocked = true // only the loop goroutine claims, so this is not racy
		close(inClaim)
		<-release
	})
	e.start()
	recv(t, inClaim, "the loop to be inside an empty claim")
	// The submit's wake-up arrives while the loop is busy claiming.
	must(work.Submit(ctxT(t), e.client, Args{N: 1}, nil))
	close(release)
	recv(t, started, "start after a wake-up that arrived during a claim")
}

func testDeferredSubmit(t *testing.T, newStore NewStore) {
	started := make(chan time.Time, 1)
	e := newEnv(t, newStore, runtime.Config{PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, startedOnce(started))
	})
	e.start()
	idleAfterFirstClaim(t, e)
	runAfter := time.Now().Add(300 * time.Millisecond)
	must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{RunAfter: runAfter}))
	at := recv(t, started, "deferred job to start")
	if at.Before(runAfter) {
		t.Fatalf("deferred job started %v early", runAfter.Sub(at))
	}
}

func testRetryRunAfter(t *testing.T, newStore NewStore) {
	starts := make(chan time.Time, 2)
	const retryDelay = 300 * time.Millisecond
	e := newEnv(t, newStore, runtime.Config{PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			starts <- time.Now()
			if j.Attempt == 1 {
				return Result{}, runtime.RetryAfter(retryDelay, errTest)
			}
			return Result{N: j.Attempt}, nil
		})
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	first := recv(t, starts, "first attempt")
	second := recv(t, starts, "retry")
	if gap := second.Sub(first); gap < retryDelay {
		t.Fatalf("retry started %v after the first attempt, want at least %v", gap, retryDelay)
	}
	if res := must(h.Wait(ctxT(t))); res.N != 2 {
		t.Fatalf("completed on attempt %d, want 2", res.N)
	}
}
