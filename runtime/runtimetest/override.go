package runtimetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// ranked has nonzero defaults for every option a submit can override.
var ranked = runtime.NewKind[Args, Result](runtime.KindOpts{Name: "ranked", Queue: "ranked", Priority: 5, MaxAttempts: 3, Timeout: time.Hour})

// testSubmitOptsOverrideToZero submits a job with the kind's defaults and
// one whose options override them, priority and timeout to zero: the
// overrides are stored, the priority-0 job is claimed first, and a zero
// timeout runs the handler without a deadline.
func testSubmitOptsOverrideToZero(t *testing.T, newStore NewStore) {
	order := make(chan int64, 2)
	e := newLoopEnv(t, newStore, runtime.Config{Queues: map[string]runtime.QueueConfig{"ranked": {MaxWorkers: 1}}}, func(s *runtime.Server) {
		register(t, s, ranked, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			order <- j.ID
			if _, ok := ctx.Deadline(); ok {
				return Result{N: 1}, nil
			}
			return Result{}, nil
		})
	})
	ctx := ctxT(t)
	if _, err := ranked.Submit(ctx, e.client, Args{}, &runtime.SubmitOpts{MaxAttempts: new(0)}); !errors.Is(err, runtime.ErrInvalidOption) {
		t.Fatalf("MaxAttempts 0: %v, want ErrInvalidOption", err)
	}
	// Both are pending before the server starts, so the claim orders them.
	byDefault := must(ranked.Submit(ctx, e.client, Args{}, nil))
	overridden := must(ranked.Submit(ctx, e.client, Args{}, &runtime.SubmitOpts{
		Priority:    new(0),
		MaxAttempts: new(1),
		Timeout:     new(time.Duration(0)),
	}))
	for _, tc := range []struct {
		id                 int64
		priority, attempts int
		timeout            time.Duration
	}{
		{byDefault.ID, 5, 3, time.Hour},
		{overridden.ID, 0, 1, 0},
	} {
		job := must(e.client.Get(ctx, tc.id))
		if job.Priority != tc.priority || job.MaxAttempts != tc.attempts || job.Timeout != tc.timeout {
			t.Errorf("job %d stored priority %d, attempts %d, timeout %v; want %d, %d, %v",
				tc.id, job.Priority, job.MaxAttempts, job.Timeout, tc.priority, tc.attempts, tc.timeout)
		}
	}
	e.start()
	if first := recv(t, order, "first run"); first != overridden.ID {
		t.Errorf("job %d ran first, want the priority-0 job %d", first, overridden.ID)
	}
	if res := must(overridden.Wait(ctx)); res.N != 0 {
		t.Error("the job with timeout 0 ran with a deadline")
	}
	if res := must(byDefault.Wait(ctx)); res.N != 1 {
		t.Error("the job with the kind's timeout ran without a deadline")
	}
}
