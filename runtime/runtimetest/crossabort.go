package runtimetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// crossAbortBound is how long a job running in another process may take
// to end aborted after a detached client's abort, without notifications:
// many poll intervals (quickPoll), and still far less than a third of
// longLease, when the next heartbeat would come.
const crossAbortBound = 2 * time.Second

// testCrossAbortByPoll: without notifications, a detached client's abort
// of a job running in another process cancels the job within about the
// worker's poll interval: the worker reads its running jobs' abort
// requests once per poll interval, long before its heartbeat would find
// them. Several trials, each timed.
func testCrossAbortByPoll(t *testing.T, ss *stores) {
	if ss.notify {
		t.Skip("with notifications the abort's notification cancels the job")
	}
	started := make(chan int64, 1)
	store := &hookStore{Storage: ss.first(t)}
	srv, err := runtime.NewServer(store.wrap(true), runtime.Config{PollInterval: quickPoll, LeaseDuration: longLease, Logger: quietLogger})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	register(t, srv, work, blockUntilCancelled(started, nil))
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if err := srv.StopAndCancel(ctx); err != nil {
			t.Errorf("StopAndCancel: %v", err)
		}
	})
	client, _ := ss.observer(t)
	for i := range 5 {
		h := must(work.Submit(ctxT(t), client, Args{N: i}, nil))
		if id := recv(t, started, "job start"); id != h.ID {
			t.Fatalf("trial %d: job %d started, want %d", i, id, h.ID)
		}
		began := time.Now()
		if err := h.Abort(ctxT(t)); err != nil {
			t.Fatalf("trial %d: Abort: %v", i, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), crossAbortBound)
		_, err := h.Wait(ctx)
		cancel()
		if !errors.Is(err, runtime.ErrAborted) {
			t.Fatalf("trial %d: Wait: %v after %v, want ErrAborted within %v (worker poll %v, heartbeat every %v)", i, err, time.Since(began), crossAbortBound, quickPoll, longLease/3)
		}
		t.Logf("trial %d: aborted across processes in %v", i, time.Since(began))
	}
}
