package runtimetest

import (
	"context"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

func noop(ctx context.Context, j *runtime.Job[Args]) (Result, error) { return Result{N: j.Args.N}, nil }

func testIdleCostsNothing(t *testing.T, newStore NewStore) {
	keep := runtime.Retention{Completed: runtime.KeepForever, Failed: runtime.KeepForever, Aborted: runtime.KeepForever, SweepInterval: 5 * time.Millisecond}
	e := newEnv(t, newStore, runtime.Config{PollInterval: 10 * time.Millisecond, LeaseDuration: 30 * time.Millisecond, Retention: keep}, func(s *runtime.Server) {
		register(t, s, work, noop)
	})
	e.start()
	// Twenty polls span several heartbeat intervals (lease / 3 = 10ms).
	eventually(t, "twenty idle polls", func() bool { return e.store.claims.Load() >= 20 })
	if n := e.store.heartbeats.Load(); n != 0 {
		t.Errorf("idle loop made %d heartbeat calls, want 0", n)
	}
	if n := e.store.deletes.Load(); n != 0 {
		t.Errorf("idle loop made %d retention sweeps with every TTL KeepForever, want 0", n)
	}
	if n := e.store.gets.Load() + e.store.lists.Load() + e.store.aborts.Load() + e.store.finishes.Load(); n != 0 {
		t.Errorf("idle loop made %d get/list/abort/finish calls, want 0", n)
	}
}

func testRetentionSweep(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{Retention: runtime.Retention{Completed: time.Hour, SweepInterval: 5 * time.Millisecond}}, func(s *runtime.Server) {
		register(t, s, work, noop)
	})
	e.start()
	eventually(t, "retention sweeps with a TTL", func() bool { return e.store.deletes.Load() >= 2 })
}

func testRetentionNegative(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{Retention: runtime.Retention{Completed: -1}}, func(s *runtime.Server) {
		register(t, s, work, noop)
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{N: 3}, nil))
	if _, err := h.Wait(ctxT(t)); err != nil && !isErr(err, runtime.ErrDeleted) {
		t.Fatalf("Wait: %v", err)
	}
	// The finisher deleted the job with its outcome, before Wait returned.
	if _, err := e.client.Get(context.Background(), h.ID); !isErr(err, runtime.ErrNotFound) {
		t.Fatalf("Get of a completed job with a negative TTL: %v, want ErrNotFound", err)
	}
}
