package runtimetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// testHeartbeatKeepsLeases runs jobs several times longer than the lease:
// the heartbeat must renew them so none is rescued, and each completes on
// its first attempt.
func testHeartbeatKeepsLeases(t *testing.T, newStore NewStore) {
	// Long enough that a heartbeat queued behind a busy database writer
	// (SQLite under -race) still lands in time.
	const lease = 500 * time.Millisecond
	e := newEnv(t, newStore, runtime.Config{LeaseDuration: lease, PollInterval: 20 * time.Millisecond}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			select { // the job's own work: two leases long
			case <-time.After(2 * lease):
				return Result{N: j.Attempt}, nil
			case <-ctx.Done():
				return Result{}, context.Cause(ctx)
			}
		})
	})
	e.start()
	var handles []*runtime.Handle[Result]
	for i := range 20 {
		handles = append(handles, must(work.Submit(ctxT(t), e.client, Args{N: i}, nil)))
	}
	for _, h := range handles {
		if res := must(h.Wait(ctxT(t))); res.N != 1 {
			t.Fatalf("job %d completed on attempt %d, want 1: its lease was not renewed", h.ID, res.N)
		}
	}
	if e.store.heartbeats.Load() == 0 {
		t.Fatal("no heartbeat while jobs ran past their lease")
	}
}

// takeOver claims the running job id as another claimer would at now, past
// its lease, and returns the rescuer's claim.
func takeOver(t *testing.T, e *env, id int64, now time.Time) *storage.ClaimedJob {
	t.Helper()
	stolen := must(e.store.Storage.JobClaim(ctxT(t), &storage.JobClaimParams{
		Queue: runtime.DefaultQueue, Kinds: []string{work.Name()}, Limit: 1,
		LeaseDuration: time.Hour, Now: now,
	}))
	if len(stolen.Jobs) != 1 || stolen.Jobs[0].ID != id {
		t.Fatalf("rescue claimed %d jobs, want job %d", len(stolen.Jobs), id)
	}
	return stolen.Jobs[0]
}

// testLeaseLostCancelsJob lets another claimer take a running job over (as
// if this process had stalled past the lease): the heartbeat must cancel
// the handler with ErrLeaseLost, and the stale run must write nothing.
func testLeaseLostCancelsJob(t *testing.T, newStore NewStore) {
	started, causes := make(chan int64, 1), make(chan error, 1)
	// The lease must outlast a heartbeat delayed by a loaded database, or
	// the server rescues the job itself before the test takes it over.
	e := newEnv(t, newStore, runtime.Config{LeaseDuration: 300 * time.Millisecond}, func(s *runtime.Server) {
		register(t, s, work, blockUntilCancelled(started, causes))
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	// Another claimer, an hour later by its clock, rescues the job.
	stolen := takeOver(t, e, h.ID, time.Now().Add(time.Hour))
	if cause := recv(t, causes, "handler cancellation"); !errors.Is(cause, runtime.ErrLeaseLost) {
		t.Fatalf("handler context cause %v, want ErrLeaseLost", cause)
	}
	// The stale run wrote nothing: the job is still the rescuer's.
	eventually(t, "the stale run to be released", func() bool { return e.srv.Running() == 0 })
	got := getJob(t, e, h.ID)
	if got.State != storage.StateRunning || got.LeaseToken != stolen.LeaseToken || got.Attempt != 2 {
		t.Fatalf("after the stale run: state %s token %d attempt %d, want running under the rescuer's token on attempt 2", got.State, got.LeaseToken, got.Attempt)
	}
}
