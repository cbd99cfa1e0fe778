package runtimetest

import (
	"context"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// testWaitForRace makes the job finish after WaitFor has registered and read
// the job as unfinished, but before WaitFor waits: it must still return.
func testWaitForRace(t *testing.T, newStore NewStore) {
	started, proceed := make(chan int64, 1), make(chan struct{})
	e := newEnv(t, newStore, runtime.Config{PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			<-proceed
			return Result{N: 9}, nil
		})
	})
	e.start()
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	var once bool
	e.store.setAfterGet(func(job *storage.Job) {
		if once || job.ID != h.ID || job.State.Terminal() {
			return
		}
		once = true // only WaitFor's goroutine reads here
		// WaitFor holds a stale "running" record: finish the job now.
		close(proceed)
		waitEvent(t, evs, h.ID, runtime.EventCompleted)
	})
	if res := must(h.Wait(ctxT(t))); res.N != 9 {
		t.Fatalf("result %d, want 9", res.N)
	}
}
