package runtimetest

import (
	"context"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/clock"
	"github.com/jobgen/jobgen/runtime/storage"
)

// Tests with a fake clock (Config.Clock) move time instead of waiting for
// it. idleWaiters is how many timers of its clock e's server, of one
// queue, waits on while no WaitFor polls: its fetch loop's, while the loop
// sleeps, its schedule loop's, while that sleeps, its heartbeat ticker's,
// once the heartbeat has started, its retention sweep's ticker (the
// default retention sweeps) and, over a store without notifications, its
// abort check's ticker.
func idleWaiters(e *env) int {
	if _, ok := e.store.Storage.(storage.Notifier); ok {
		return 4
	}
	return 5
}

// newFakeClock returns a fake clock at the present, in the microseconds
// storage keeps.
func newFakeClock() *clock.Fake { return clock.NewFake(time.Now().Truncate(time.Microsecond)) }

// blockUntil waits until n timers of fc are armed.
func blockUntil(t *testing.T, fc *clock.Fake, n int) {
	t.Helper()
	if err := fc.BlockUntil(ctxT(t), n); err != nil {
		t.Fatalf("waiting for %d armed timers (%d armed): %v", n, fc.Waiters(), err)
	}
}

// claimSaw returns a channel that receives once a claim of e's fetch loop
// returns a result for which match holds.
func claimSaw(e *env, match func(*storage.JobClaimResult) bool) <-chan struct{} {
	ch := make(chan struct{}, 1)
	e.store.setAfterClaim(func(res *storage.JobClaimResult) {
		if match(res) {
			latchT(ch)
		}
	})
	return ch
}

func latchT(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func nextRunAfterSet(res *storage.JobClaimResult) bool { return !res.NextRunAfter.IsZero() }

// dropHeartbeats renews no lease: as if its server had stalled.
type dropHeartbeats struct{ storage.Storage }

func (dropHeartbeats) JobHeartbeat(context.Context, *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	return &storage.JobHeartbeatResult{}, nil
}

// testFakeClockRescue: a server whose heartbeats renew nothing holds a job;
// once the test moves time past its lease, a second server rescues it.
// Nobody sleeps through the lease.
func testFakeClockRescue(t *testing.T, newStore NewStore) {
	fc := newFakeClock()
	const lease = time.Minute
	var inner storage.Storage
	stalled, rescued := make(chan int64, 1), make(chan int, 1)
	a := newLoopEnv(t, func(t *testing.T) storage.Storage { inner = newStore(t); return dropHeartbeats{inner} },
		runtime.Config{Clock: fc, LeaseDuration: lease, PollInterval: 24 * time.Hour},
		func(s *runtime.Server) { register(t, s, work, blockUntilCancelled(stalled, nil)) })
	b := newLoopEnv(t, func(*testing.T) storage.Storage { return inner },
		runtime.Config{Clock: fc, LeaseDuration: lease, PollInterval: time.Second},
		func(s *runtime.Server) {
			register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
				rescued <- j.Attempt
				return Result{N: j.Attempt}, nil
			})
		})
	a.start()
	h := must(work.Submit(ctxT(t), a.client, Args{}, nil))
	recv(t, stalled, "the job to start on the stalling server")
	bIdle := claimSaw(b, func(res *storage.JobClaimResult) bool { return len(res.Jobs) == 0 })
	b.start()
	recv(t, bIdle, "the second server's claim to find the job held")
	blockUntil(t, fc, idleWaiters(a)+idleWaiters(b))
	select {
	case at := <-rescued:
		t.Fatalf("job rescued on attempt %d before its lease expired", at)
	default:
	}
	fc.Advance(lease + time.Second)
	if at := recv(t, rescued, "the rescue"); at != 2 {
		t.Fatalf("rescued on attempt %d, want 2", at)
	}
	if res := must(work.WaitFor(ctxT(t), b.client, h.ID)); res.N != 2 {
		t.Fatalf("result %d, want 2", res.N)
	}
}

// testFakeClockDeferred: a deferred job starts when the test moves time to
// its RunAfter, not before.
func testFakeClockDeferred(t *testing.T, newStore NewStore) {
	fc := newFakeClock()
	started := make(chan time.Time, 1)
	e := newLoopEnv(t, newStore, runtime.Config{Clock: fc, PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- fc.Now()
			return Result{}, nil
		})
	})
	e.start()
	idleAfterFirstClaim(t, e)
	deferred := claimSaw(e, nextRunAfterSet)
	runAfter := fc.Now().Add(10 * time.Second)
	must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{RunAfter: runAfter}))
	recv(t, deferred, "a claim to see the deferred job")
	blockUntil(t, fc, idleWaiters(e))
	select {
	case <-started:
		t.Fatal("deferred job started before its time")
	default:
	}
	fc.Advance(10 * time.Second)
	if at := recv(t, started, "the deferred job to start"); at.Before(runAfter) {
		t.Fatalf("deferred job started at %v, before its RunAfter %v", at, runAfter)
	}
}

// testFakeClockBackoff: a retry starts when the test moves time past its
// backoff, not before.
func testFakeClockBackoff(t *testing.T, newStore NewStore) {
	fc := newFakeClock()
	const backoff = 10 * time.Second
	starts := make(chan time.Time, 2)
	e := newLoopEnv(t, newStore, runtime.Config{Clock: fc, PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			starts <- fc.Now()
			if j.Attempt == 1 {
				return Result{}, runtime.RetryAfter(backoff, errTest)
			}
			return Result{N: j.Attempt}, nil
		})
	})
	e.start()
	idleAfterFirstClaim(t, e)
	retried := claimSaw(e, nextRunAfterSet)
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	first := recv(t, starts, "the first attempt")
	recv(t, retried, "a claim to see the retry waiting")
	blockUntil(t, fc, idleWaiters(e))
	select {
	case <-starts:
		t.Fatal("retry started before its backoff passed")
	default:
	}
	fc.Advance(backoff)
	if at := recv(t, starts, "the retry"); at.Sub(first) < backoff {
		t.Fatalf("retry started %v after the first attempt, want at least %v", at.Sub(first), backoff)
	}
	if res := must(h.Wait(ctxT(t))); res.N != 2 {
		t.Fatalf("completed on attempt %d, want 2", res.N)
	}
}
