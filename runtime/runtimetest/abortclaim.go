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

// abortLease is the lease of the abort-after-claim tests: its heartbeat
// (a third of it) comes long after each trial's wait has given up, so the
// heartbeat cannot be what delivers an abort.
const abortLease = time.Minute

// abortWait bounds each trial's wait for its job to end aborted: well
// under a third of abortLease.
const abortWait = 5 * time.Second

// testAbortJustClaimedLoop: the fetch loop's claim.
func testAbortJustClaimedLoop(t *testing.T, newStore NewStore) {
	testAbortJustClaimed(t, newLoopEnv, newStore)
}

// testAbortJustClaimedInsertClaim: the submit's insert and claim, where
// the store has one (storage.InsertClaimer).
func testAbortJustClaimedInsertClaim(t *testing.T, newStore NewStore) {
	testAbortJustClaimed(t, newEnv, newStore)
}

// testAbortJustClaimed aborts a job through the attached client right
// after its submit, many times, at moments that fall between the claim's
// commit and the job's start in the server: half of the trials abort as
// soon as the submitted event arrives (the event goes out before a job the
// submit claims is taken in), half as soon as Submit returns (the loop's
// claim may be in flight). Every job must end aborted within abortWait,
// long before any heartbeat: the abort is delivered in the process.
func testAbortJustClaimed(t *testing.T, build func(*testing.T, NewStore, runtime.Config, func(*runtime.Server)) *env, newStore NewStore) {
	const trials = 300
	e := build(t, newStore, runtime.Config{LeaseDuration: abortLease, PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, blockUntilCancelled(make(chan int64, trials), nil))
	})
	e.start()
	// The listener answers every submitted event, so each trial's event is
	// taken before the next trial begins; it aborts the job when told to.
	type answer struct {
		id      int64
		aborted bool
		err     error
	}
	var fromEvent atomic.Bool
	answers := make(chan answer, 1)
	cancel := e.client.Subscribe(func(ev runtime.Event) {
		if ev.Kind != runtime.EventSubmitted {
			return
		}
		if fromEvent.Load() {
			answers <- answer{ev.JobID, true, e.client.Abort(context.Background(), ev.JobID)}
		} else {
			answers <- answer{ev.JobID, false, nil}
		}
	})
	defer cancel()
	for i := range trials {
		fromEvent.Store(i%2 == 0)
		h := must(work.Submit(ctxT(t), e.client, Args{N: i}, nil))
		var err error
		if !fromEvent.Load() {
			err = e.client.Abort(ctxT(t), h.ID)
		}
		a := recv(t, answers, "the listener's answer")
		if a.id != h.ID {
			t.Fatalf("trial %d: the listener saw job %d submitted, want %d", i, a.id, h.ID)
		}
		if a.aborted {
			err = a.err
		}
		if err != nil {
			t.Fatalf("trial %d: Abort: %v", i, err)
		}
		ctx, stop := context.WithTimeout(context.Background(), abortWait)
		_, err = h.Wait(ctx)
		stop()
		if !errors.Is(err, runtime.ErrAborted) {
			got := getJob(t, e, h.ID)
			t.Fatalf("trial %d: Wait: %v, want ErrAborted within %v (stored state %s, abort requested %v)", i, err, abortWait, got.State, !got.AbortRequestedAt.IsZero())
		}
		if got := getJob(t, e, h.ID); got.State != storage.StateAborted {
			t.Fatalf("trial %d: stored state %s, want aborted", i, got.State)
		}
	}
}
