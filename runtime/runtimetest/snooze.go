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

// testSnooze: a handler that returns Snooze(d) runs again once the test
// moves time d on, not before, without using an attempt: the job, whose
// kind allows 3 attempts, snoozes more often than that and still completes
// on its first attempt. Each snooze is an EventSnoozed, never a retry.
func testSnooze(t *testing.T, newStore NewStore) {
	fc := newFakeClock()
	const (
		nap     = 5 * time.Second
		snoozes = 4 // more than work's MaxAttempts
	)
	type start struct {
		attempt int
		at      time.Time
	}
	starts := make(chan start, snoozes+1)
	var runs atomic.Int32
	e := newLoopEnv(t, newStore, runtime.Config{Clock: fc, PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			starts <- start{j.Attempt, fc.Now()}
			if runs.Add(1) <= snoozes {
				return Result{}, runtime.Snooze(nap)
			}
			return Result{N: j.Attempt}, nil
		})
	})
	e.start()
	evs := events(t, e.client)
	idleAfterFirstClaim(t, e)
	seen := claimSaw(e, nextRunAfterSet)
	h := must(runtime.NewKindClient(work, e.client).Submit(ctxT(t), Args{}, nil))
	id := int64(h.ID)
	for i := range snoozes {
		s := recv(t, starts, "a run that snoozes")
		if s.attempt != 1 {
			t.Fatalf("run %d is attempt %d, want 1: a snooze used an attempt", i+1, s.attempt)
		}
		ev := waitEvent(t, evs, id, runtime.EventSnoozed)
		if want := s.at.Add(nap); !ev.RunAfter.Equal(want) || ev.Err != nil {
			t.Errorf("snooze %d: event RunAfter %v, Err %v; want %v and no error", i+1, ev.RunAfter, ev.Err, want)
		}
		j := getJob(t, e, id)
		if j.State != storage.StatePending || j.Attempt != 0 || !j.RunAfter.Equal(s.at.Add(nap)) || j.ErrorMessage != "" {
			t.Fatalf("after snooze %d: state %s, attempt %d, run after %v, error %q; want pending, attempt 0, %v, no error",
				i+1, j.State, j.Attempt, j.RunAfter, j.ErrorMessage, s.at.Add(nap))
		}
		recv(t, seen, "a claim to see the snoozed job waiting")
		blockUntil(t, fc, idleWaiters(e))
		select {
		case s := <-starts:
			t.Fatalf("snoozed job ran again at %v, before its snooze of %v ended", s.at, nap)
		default:
		}
		seen = claimSaw(e, nextRunAfterSet)
		fc.Advance(nap)
	}
	last := recv(t, starts, "the run after the last snooze")
	if res := must(h.Wait(ctxT(t))); res.N != 1 || last.attempt != 1 {
		t.Fatalf("completed on attempt %d (run saw %d), want 1", res.N, last.attempt)
	}
	if j := getJob(t, e, id); j.State != storage.StateCompleted || j.Attempt != 1 {
		t.Errorf("finished job: state %s, attempt %d; want completed after 1 attempt", j.State, j.Attempt)
	}
	for {
		ev := recv(t, evs, "the events")
		if ev.JobID == id && ev.Kind == runtime.EventRetried {
			t.Errorf("a snooze was a retry: %v", ev.Err)
		}
		if ev.JobID == id && ev.Kind.Terminal() {
			break
		}
	}
}

// testSubmitDelay: SubmitOpts.Delay defers the job until Delay after the
// submit on the client's clock: it starts once the test moves time that
// far, not before. Delay with RunAfter, or a negative Delay, is refused
// and writes nothing.
func testSubmitDelay(t *testing.T, newStore NewStore) {
	fc := newFakeClock()
	const delay = 10 * time.Second
	started := make(chan time.Time, 1)
	e := newLoopEnv(t, newStore, runtime.Config{Clock: fc, PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- fc.Now()
			return Result{}, nil
		})
	})
	e.start()
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		opts *runtime.SubmitOpts
	}{
		{"negative delay", &runtime.SubmitOpts{Delay: -time.Second}},
		{"delay and run-after", &runtime.SubmitOpts{Delay: time.Second, RunAfter: fc.Now().Add(time.Hour)}},
		{"deadline before the delay ends", &runtime.SubmitOpts{Delay: time.Hour, Deadline: fc.Now().Add(time.Minute)}},
	} {
		before := e.store.inserts.Load()
		if _, err := work.Submit(ctx, e.client, Args{}, tc.opts); !errors.Is(err, runtime.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", tc.name, err)
		}
		if n := e.store.inserts.Load() - before; n != 0 {
			t.Errorf("%s: %d inserts, want none", tc.name, n)
		}
	}
	idleAfterFirstClaim(t, e)
	deferred := claimSaw(e, nextRunAfterSet)
	submitted := fc.Now()
	h := must(work.Submit(ctx, e.client, Args{}, &runtime.SubmitOpts{Delay: delay}))
	if j := getJob(t, e, h.ID); !j.RunAfter.Equal(submitted.Add(delay)) {
		t.Fatalf("stored run-after %v, want the submit's time plus the delay, %v", j.RunAfter, submitted.Add(delay))
	}
	recv(t, deferred, "a claim to see the delayed job")
	blockUntil(t, fc, idleWaiters(e))
	select {
	case <-started:
		t.Fatal("delayed job started before its delay passed")
	default:
	}
	fc.Advance(delay)
	if at := recv(t, started, "the delayed job to start"); at.Before(submitted.Add(delay)) {
		t.Fatalf("delayed job started at %v, before %v", at, submitted.Add(delay))
	}
}
