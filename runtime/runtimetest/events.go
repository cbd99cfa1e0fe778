package runtimetest

import (
	"context"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

func testEventsInOrder(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			if j.Attempt == 1 {
				return Result{}, errTest
			}
			j.ReportProgress(50, "half")
			return Result{N: 1}, nil
		})
	})
	e.start()
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	// The server's events for one job arrive in the order its life produced
	// them. EventSubmitted comes from the submitting call after the insert
	// returns, so a fetch already in flight may start the job before it: it
	// only has to arrive.
	want := []runtime.EventKind{runtime.EventStarted, runtime.EventRetried, runtime.EventStarted, runtime.EventProgress, runtime.EventCompleted}
	var got []runtime.EventKind
	submitted := false
	timeout := time.After(deadline)
	for len(got) < len(want) || !submitted {
		select {
		case ev := <-evs:
			if ev.JobID != h.ID {
				continue
			}
			if ev.JobKind != work.Name() || ev.Queue != runtime.DefaultQueue {
				t.Fatalf("event %+v", ev)
			}
			if ev.Kind == runtime.EventSubmitted {
				submitted = true
				continue
			}
			got = append(got, ev.Kind)
			if len(got) > len(want) || got[len(got)-1] != want[len(got)-1] {
				t.Fatalf("events %v, want %v", got, want)
			}
		case <-timeout:
			t.Fatalf("timed out: events %v (submitted seen: %v), want %v", got, submitted, want)
		}
	}
}

func testBadListeners(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) { register(t, s, work, noop) })
	e.start()
	stuck := make(chan struct{})
	defer close(stuck)
	cancelSlow := e.client.Subscribe(func(runtime.Event) { <-stuck }) // never returns until the end
	defer func() { go cancelSlow() }()
	cancelPanic := e.client.Subscribe(func(runtime.Event) { panic("listener panic") })
	defer cancelPanic()
	evs := events(t, e.client)
	for i := range 50 {
		h := must(work.Submit(ctxT(t), e.client, Args{N: i}, nil))
		if res := must(h.Wait(ctxT(t))); res.N != i {
			t.Fatalf("result %d, want %d", res.N, i)
		}
		waitEvent(t, evs, h.ID, runtime.EventCompleted)
	}
}
