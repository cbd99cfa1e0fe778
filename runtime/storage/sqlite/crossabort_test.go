package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// TestCrossStoreAbort: two stores on one file stand for two processes. A
// detached client on one aborts a job that a server on the other runs; the
// server has no notification to hear it by, and its heartbeat (a third of
// a one-minute lease) comes long after the test's bound, so the job ends
// aborted within about a poll interval only through the server's abort
// check.
func TestCrossStoreAbort(t *testing.T) {
	t.Parallel()
	const poll = 100 * time.Millisecond
	path := filepath.Join(t.TempDir(), "jobs.db")
	open := func() *Store {
		s, err := Open(path, nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	workerStore, observerStore := open(), open()

	kind := runtime.NewKind[struct{}, runtime.NoOutput](runtime.KindOpts{Name: "block", MaxAttempts: 1})
	started := make(chan int64, 1)
	srv, err := runtime.NewServer(workerStore, runtime.Config{PollInterval: poll, LeaseDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	err = kind.Register(srv, func(ctx context.Context, j *runtime.Job[struct{}]) (runtime.NoOutput, error) {
		started <- j.ID
		<-ctx.Done()
		return runtime.NoOutput{}, context.Cause(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.StopAndCancel(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	client, err := runtime.NewClient(observerStore, runtime.ClientConfig{PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 3 {
		h, err := kind.Submit(ctx, client, struct{}{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-started:
			if id != h.ID {
				t.Fatalf("job %d started, want %d", id, h.ID)
			}
		case <-ctx.Done():
			t.Fatal("the job did not start")
		}
		began := time.Now()
		if err := h.Abort(ctx); err != nil {
			t.Fatalf("abort: %v", err)
		}
		// The check runs every poll interval and the client reads every
		// poll interval: a few of them, well under the heartbeat's 20 s.
		wctx, wcancel := context.WithTimeout(ctx, 20*poll)
		_, err = h.Wait(wctx)
		wcancel()
		if !errors.Is(err, runtime.ErrAborted) {
			j, _ := observerStore.JobGet(ctx, &storage.JobGetParams{ID: h.ID})
			t.Fatalf("trial %d: Wait: %v after %v, want ErrAborted within %v (state %s)", i, err, time.Since(began), 20*poll, j.State)
		}
		t.Logf("trial %d: aborted across stores in %v", i, time.Since(began))
	}
}
