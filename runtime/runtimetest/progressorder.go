package runtimetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// progressTrials is how many jobs each progress-order test runs, and
// progressSteps how many reports each job makes (fewer than a progress
// subscription buffers, so none is dropped for a slow reader).
const (
	progressTrials = 200
	progressSteps  = 5
)

// reportSteps returns a handler that waits for a token from proceed, then
// reports progress 1..progressSteps and returns.
func reportSteps(proceed <-chan struct{}) runtime.HandlerFunc[Args, Result] {
	return func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
		<-proceed
		for i := 1; i <= progressSteps; i++ {
			j.ReportProgress(float64(i), "step")
		}
		return Result{N: j.Args.N}, nil
	}
}

// eventLog records every event a client sees, in order.
type eventLog struct {
	mu  sync.Mutex
	evs []runtime.Event
}

func logEvents(t *testing.T, c *runtime.Client) *eventLog {
	l := &eventLog{}
	t.Cleanup(c.Subscribe(func(ev runtime.Event) {
		l.mu.Lock()
		l.evs = append(l.evs, ev)
		l.mu.Unlock()
	}))
	return l
}

// ofJob returns the events of job id other than submitted and started, as
// "progress N" and the terminal kind, and the index in the log of the
// first and last of them.
func (l *eventLog) ofJob(id int64) (got []string, first, last int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first = -1
	for i, ev := range l.evs {
		if ev.JobID != id || ev.Kind == runtime.EventSubmitted || ev.Kind == runtime.EventStarted {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		if ev.Kind == runtime.EventProgress {
			got = append(got, fmt.Sprintf("progress %g", ev.Progress.Percent))
		} else {
			got = append(got, ev.Kind.String())
		}
	}
	return got, first, last
}

// wantSteps is what an observer must see of a job's progress.
func wantSteps() []string {
	var want []string
	for i := 1; i <= progressSteps; i++ {
		want = append(want, fmt.Sprintf("progress %d", i))
	}
	return want
}

// drainProgress reads a progress subscription until it is closed, or
// until the suite's deadline, and reports whether it was closed.
func drainProgress(updates <-chan runtime.Progress) (got []string, closed bool) {
	timeout := time.After(deadline)
	for {
		select {
		case p, ok := <-updates:
			if !ok {
				return got, true
			}
			got = append(got, fmt.Sprintf("progress %g", p.Percent))
		case <-timeout:
			return got, false
		}
	}
}

// testProgressOrderAttached: over a backend with notifications, the
// attached client sees each job's progress reports in order, then the
// terminal event, and nothing of the job after it, although the server
// hears its own progress notifications back.
func testProgressOrderAttached(t *testing.T, newStore NewStore) {
	proceed := make(chan struct{})
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, reportSteps(proceed))
	})
	if _, ok := e.store.Storage.(storage.Notifier); !ok {
		t.Skip("the store has no notifications")
	}
	e.start()
	log := logEvents(t, e.client)
	want := append(wantSteps(), runtime.EventCompleted.String())
	var ids []int64
	for i := range progressTrials {
		h := must(work.Submit(ctxT(t), e.client, Args{N: i}, nil))
		ids = append(ids, h.ID)
		updates, cancel := h.Progress()
		proceed <- struct{}{}
		if got, closed := drainProgress(updates); !closed || !slices.Equal(got, wantSteps()) {
			t.Fatalf("trial %d: progress %v (subscription closed: %v), want %v, then closed; job %d is %s", i, got, closed, wantSteps(), h.ID, getJob(t, e, h.ID).State)
		}
		cancel()
		must(h.Wait(ctxT(t)))
	}
	// The terminal event of the last job is in the log once it arrives;
	// by then any echo of an earlier job's progress has had all the later
	// trials to arrive.
	eventually(t, "the last job's terminal event", func() bool {
		got, _, _ := log.ofJob(ids[len(ids)-1])
		return slices.Contains(got, runtime.EventCompleted.String())
	})
	bad := 0
	for i, id := range ids {
		if got, _, _ := log.ofJob(id); !slices.Equal(got, want) {
			if bad++; bad == 1 {
				t.Errorf("trial %d: events %v, want %v", i, got, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d trials saw other events than %v", bad, len(ids), want)
	}
}

// testProgressOrderCross: a detached client in another process sees each
// job's progress reports in order and all of them before it hears that the
// job finished: its progress subscription yields exactly the reports
// before it is closed, and no report of a job arrives after those of the
// next job.
func testProgressOrderCross(t *testing.T, ss *stores) {
	if !ss.notify {
		t.Skip("progress crosses processes only by notification")
	}
	proceed := make(chan struct{})
	ss.worker(t, reportSteps(proceed))
	obs, _ := ss.observer(t)
	log := logEvents(t, obs)
	want := wantSteps()
	var ids []int64
	for i := range progressTrials {
		h := must(work.Submit(ctxT(t), obs, Args{N: i}, nil))
		ids = append(ids, h.ID)
		updates, cancel := obs.SubscribeProgress(h.ID)
		proceed <- struct{}{}
		if got, closed := drainProgress(updates); !closed || !slices.Equal(got, want) {
			t.Fatalf("trial %d: progress %v (subscription closed: %v), want %v, then closed; job %d is %s", i, got, closed, want, h.ID, must(obs.Get(ctxT(t), h.ID)).State)
		}
		cancel()
		must(h.Wait(ctxT(t)))
	}
	eventually(t, "the last job's progress events", func() bool {
		got, _, _ := log.ofJob(ids[len(ids)-1])
		return len(got) >= len(want)
	})
	prevLast, bad := -1, 0
	for i, id := range ids {
		got, first, last := log.ofJob(id)
		switch {
		case !slices.Equal(got, want):
			if bad++; bad == 1 {
				t.Errorf("trial %d: progress events %v, want %v", i, got, want)
			}
		case first < prevLast:
			if bad++; bad == 1 {
				t.Errorf("trial %d: progress of the job before arrived after this job's", i)
			}
		}
		prevLast = last
	}
	if bad > 0 {
		t.Errorf("%d of %d trials saw their progress events out of order", bad, len(ids))
	}
}
