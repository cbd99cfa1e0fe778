package runtimetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// testSubmitClaims: over a store that can insert and claim in one call, a
// submit to an idle attached server starts its job with that one call: the
// fetch loop makes no claim for it.
func testSubmitClaims(t *testing.T, newStore NewStore) {
	started := make(chan time.Time, 1)
	e := newEnv(t, newStore, runtime.Config{PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, startedOnce(started))
	})
	if !e.insertClaim {
		t.Skip("the store does not implement storage.InsertClaimer")
	}
	e.start()
	idleAfterFirstClaim(t, e)
	// A submit takes the shortcut only while the loop holds no slots; the
	// loop holds them for a moment after its claim returns, so allow a few
	// submits to find it idle.
	for i := range 5 {
		claims, insertClaims := e.store.claims.Load(), e.store.insertClaims.Load()
		h := must(work.Submit(ctxT(t), e.client, Args{N: i}, nil))
		recv(t, started, "start of a job submitted to an idle server")
		if res := must(h.Wait(ctxT(t))); res.N != i {
			t.Fatalf("result %d, want %d", res.N, i)
		}
		if e.store.insertClaims.Load() == insertClaims {
			continue // the loop was still busy: the job went the usual way
		}
		if n := e.store.claims.Load() - claims; n != 0 {
			t.Errorf("the loop made %d claims for a job its submit claimed, want 0", n)
		}
		return
	}
	t.Fatal("no submit to the idle server inserted and claimed in one call")
}

// testSubmitClaimsWithinMaxWorkers: submits that claim and the fetch loop
// together never run more jobs of a queue at once than its MaxWorkers.
func testSubmitClaimsWithinMaxWorkers(t *testing.T, newStore NewStore) {
	const maxWorkers, jobs = 2, 12
	var running, peak atomic.Int64
	release := make(chan struct{})
	e := newEnv(t, newStore, runtime.Config{
		PollInterval: slowPoll,
		Queues:       map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: maxWorkers}},
	}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release
			running.Add(-1)
			return Result{N: j.Args.N}, nil
		})
	})
	e.start()
	handles := make([]*runtime.Handle[Result], jobs)
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Go(func() { handles[i] = must(work.Submit(ctxT(t), e.client, Args{N: i}, nil)) })
	}
	wg.Wait()
	eventually(t, "the queue to be full", func() bool { return running.Load() == maxWorkers })
	close(release)
	for i, h := range handles {
		if res := must(h.Wait(ctxT(t))); res.N != i {
			t.Fatalf("job %d: result %d", i, res.N)
		}
	}
	if p := peak.Load(); p > maxWorkers {
		t.Errorf("%d jobs ran at once, MaxWorkers is %d", p, maxWorkers)
	}
}
