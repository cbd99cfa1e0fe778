package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// errStorageDown is what a store returns while its database is out of reach.
var errStorageDown = fmt.Errorf("runtimetest: connection refused: %w", storage.ErrUnavailable)

// errAnswerLost is what a store returns whose commit landed but whose answer
// was lost with its connection.
var errAnswerLost = fmt.Errorf("runtimetest: connection lost after the commit: %w", storage.ErrUnavailable)

// runCounter counts the runs of each job.
type runCounter struct {
	mu   sync.Mutex
	runs map[int64]int
}

// handler returns a handler that counts its runs and returns its attempt.
func (c *runCounter) handler() runtime.HandlerFunc[Args, Result] {
	return func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
		c.mu.Lock()
		if c.runs == nil {
			c.runs = make(map[int64]int)
		}
		c.runs[j.ID]++
		c.mu.Unlock()
		return Result{N: j.Attempt}, nil
	}
}

func (c *runCounter) of(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[id]
}

// testFinishAnswerLost: an outcome write commits but its answer is lost
// (the connection breaks after the commit), so the finisher cannot tell
// whether it landed, and its retry finds the lease already cleared. The
// finisher must read back what landed: the completion event goes out once
// and the job does not run again, whether the completed job is kept or
// deleted at once.
func testFinishAnswerLost(t *testing.T, newStore NewStore) {
	for _, tc := range []struct {
		name      string
		retention runtime.Retention
	}{
		{"Kept", runtime.Retention{}},
		{"Deleted", runtime.Retention{Completed: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var runs runCounter
			e := newEnv(t, newStore, runtime.Config{Retention: tc.retention}, func(s *runtime.Server) {
				register(t, s, work, runs.handler())
			})
			evs := events(t, e.client)
			var (
				tripped atomic.Bool
				lostMu  sync.Mutex
				lost    []int64 // the jobs of the write whose answer was lost
			)
			e.store.setFinish(func(p *storage.JobFinishParams, finish func() (*storage.JobFinishResult, error)) (*storage.JobFinishResult, error) {
				if tripped.Swap(true) {
					return finish()
				}
				lostMu.Lock()
				for _, f := range p.Jobs {
					lost = append(lost, f.ID)
				}
				lostMu.Unlock()
				if _, err := finish(); err != nil {
					return nil, err
				}
				return nil, errAnswerLost
			})
			e.start()
			h := must(work.Submit(ctxT(t), e.client, Args{N: 1}, nil))
			if ev := waitEvent(t, evs, h.ID, runtime.EventCompleted); ev.Attempt != 1 {
				t.Fatalf("job %d completed on attempt %d, want 1", h.ID, ev.Attempt)
			}
			lostMu.Lock()
			carried := lost
			lostMu.Unlock()
			if len(carried) != 1 || carried[0] != h.ID {
				t.Fatalf("the write whose answer was lost carried jobs %v, want job %d", carried, h.ID)
			}
			// A second job marks the end of the first one's events: a
			// listener sees events in order.
			marker := must(work.Submit(ctxT(t), e.client, Args{N: 2}, nil))
			completions := 1
			timeout := time.After(deadline)
			for done := false; !done; {
				select {
				case ev := <-evs:
					switch {
					case ev.JobID == h.ID && ev.Kind == runtime.EventCompleted:
						completions++
					case ev.JobID == h.ID && ev.Kind == runtime.EventStarted && ev.Attempt > 1:
						t.Fatalf("job %d started again, attempt %d", h.ID, ev.Attempt)
					case ev.JobID == marker.ID && ev.Kind == runtime.EventCompleted:
						done = true
					}
				case <-timeout:
					t.Fatalf("timed out waiting for the completion of job %d", marker.ID)
				}
			}
			if completions != 1 {
				t.Fatalf("%d completion events for job %d, want 1", completions, h.ID)
			}
			if n := runs.of(h.ID); n != 1 {
				t.Fatalf("job %d ran %d times, want once", h.ID, n)
			}
			got, err := e.store.Storage.JobGet(ctxT(t), &storage.JobGetParams{ID: h.ID})
			switch {
			case tc.retention.Completed < 0:
				if !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("JobGet of a job deleted as it completed: %v, %v; want ErrNotFound", got, err)
				}
			case err != nil:
				t.Fatal(err)
			case got.State != storage.StateCompleted || got.Attempt != 1:
				t.Fatalf("job is %s after attempt %d, want completed after attempt 1", got.State, got.Attempt)
			}
		})
	}
}

// completesOnce submits a job to the started env and fails the test unless
// it completes on its first attempt and runs once; why, such as ": its
// lease was not renewed", is added to the message when it ran more.
func completesOnce(t *testing.T, e *env, runs *runCounter, why string) {
	t.Helper()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	res, err := h.Wait(ctxT(t))
	if err != nil || res.N != 1 {
		t.Fatalf("Wait: %+v, %v; want completion on attempt 1", res, err)
	}
	if n := runs.of(h.ID); n != 1 {
		t.Fatalf("job ran %d times, want once%s", n, why)
	}
}

// testFinishOutlastsOutage: storage refuses outcome writes as unavailable
// more times than the finisher once tried before it gave up. The finisher
// keeps trying while the job's lease holds, and writes the outcome once
// storage answers: the job completes on its first attempt and runs once.
func testFinishOutlastsOutage(t *testing.T, newStore NewStore) {
	const failures = 6
	var runs runCounter
	// The lease outlasts the failing writes, so no claim rescues the job
	// meanwhile.
	e := newEnv(t, newStore, runtime.Config{LeaseDuration: 3 * time.Second}, func(s *runtime.Server) {
		register(t, s, work, runs.handler())
	})
	var writes atomic.Int32
	e.store.setFinish(func(p *storage.JobFinishParams, finish func() (*storage.JobFinishResult, error)) (*storage.JobFinishResult, error) {
		if writes.Add(1) <= failures {
			return nil, errStorageDown
		}
		return finish()
	})
	e.start()
	completesOnce(t, e, &runs, "")
	if n := writes.Load(); n <= failures {
		t.Fatalf("%d outcome writes, want more than the %d that failed", n, failures)
	}
}

// testFinishGivesUpPastDrain: storage refuses every outcome write. Stop
// lets the finisher keep trying through its drain (StopTimeout) and no
// longer: the finisher then gives up and Stop returns nil, with no job
// reported stuck. The job stays running in storage, for a rescue once its
// lease expires.
func testFinishGivesUpPastDrain(t *testing.T, newStore NewStore) {
	var runs runCounter
	e := newEnv(t, newStore, runtime.Config{StopTimeout: 200 * time.Millisecond}, func(s *runtime.Server) {
		register(t, s, work, runs.handler())
	})
	failing := make(chan struct{}, 1)
	e.store.setFinish(func(*storage.JobFinishParams, func() (*storage.JobFinishResult, error)) (*storage.JobFinishResult, error) {
		select {
		case failing <- struct{}{}:
		default:
		}
		return nil, errStorageDown
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, failing, "a failed outcome write")
	if err := e.srv.Stop(ctxT(t)); err != nil {
		t.Fatalf("Stop: %v; want nil once the drain is over", err)
	}
	if got := getJob(t, e, h.ID); got.State != storage.StateRunning || got.Attempt != 1 {
		t.Fatalf("job is %s after attempt %d, want running on attempt 1 (its outcome never written)", got.State, got.Attempt)
	}
}

// testFinishKeepsLease: outcome writes fail for several lease durations
// while the rest of storage works. The heartbeat renews the lease of the
// job whose outcome waits meanwhile, so no claim rescues it: it completes
// on its first attempt and runs once.
func testFinishKeepsLease(t *testing.T, newStore NewStore) {
	// As in testHeartbeatKeepsLeases: long enough for a heartbeat queued
	// behind a busy database writer.
	const lease = 500 * time.Millisecond
	var runs runCounter
	e := newEnv(t, newStore, runtime.Config{LeaseDuration: lease, PollInterval: 20 * time.Millisecond}, func(s *runtime.Server) {
		register(t, s, work, runs.handler())
	})
	var (
		mu    sync.Mutex
		until time.Time // the writes fail until then
	)
	e.store.setFinish(func(p *storage.JobFinishParams, finish func() (*storage.JobFinishResult, error)) (*storage.JobFinishResult, error) {
		mu.Lock()
		defer mu.Unlock()
		if until.IsZero() {
			until = time.Now().Add(4 * lease)
		}
		if time.Now().Before(until) {
			return nil, errStorageDown
		}
		return finish()
	})
	e.start()
	completesOnce(t, e, &runs, ": its lease was not renewed while its outcome waited")
}
