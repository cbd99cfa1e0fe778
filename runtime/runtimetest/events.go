package runtimetest

import (
	"context"
	"testing"

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
	want := []runtime.EventKind{runtime.EventSubmitted, runtime.EventStarted, runtime.EventRetried, runtime.EventStarted, runtime.EventProgress, runtime.EventCompleted}
	for i, k := range want {
		ev := waitEvent(t, evs, h.ID, k)
		if ev.JobKind != work.Name() || ev.Queue != runtime.DefaultQueue {
			t.Fatalf("event %d: %+v", i, ev)
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
