package runtimetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/limit"
	"github.com/jobgen/jobgen/runtime/storage"
)

// holdFor is how long the hold tests hold their queue.
const holdFor = 500 * time.Millisecond

// holdRecorder is a limiter that reports every Hold.
type holdRecorder struct {
	limit.Limiter
	holds chan time.Time
}

func (l *holdRecorder) Hold(ctx context.Context, until time.Time) error {
	l.holds <- until
	return l.Limiter.Hold(ctx, until)
}

// testHoldQueue: a handler that returns HoldQueue holds its queue in the
// server, whose queue has no limiter.
func testHoldQueue(t *testing.T, newStore NewStore) {
	holdQueue(t, newStore, nil)
}

// testHoldQueueLimiter: a handler that returns HoldQueueFor holds its queue
// through the queue's limiter.
func testHoldQueueLimiter(t *testing.T, newStore NewStore) {
	holdQueue(t, newStore, &holdRecorder{Limiter: limit.Must(limit.NewConcurrency(4)), holds: make(chan time.Time, 4)})
}

// holdQueue runs the hold tests, with the queue's limiter lim (and
// HoldQueueFor) or none (and HoldQueue): the job that held the queue goes
// back to pending without using an attempt, neither it nor a job submitted
// during the hold starts before the hold ends, and both run then.
func holdQueue(t *testing.T, newStore NewStore, lim *holdRecorder) {
	type start struct {
		id      int64
		attempt int
		at      time.Time
	}
	starts, untils := make(chan start, 8), make(chan time.Time, 1)
	var held atomic.Bool
	cfg := runtime.Config{}
	if lim != nil {
		cfg.Queues = map[string]runtime.QueueConfig{runtime.DefaultQueue: {Limiter: lim}}
	}
	e := newEnv(t, newStore, cfg, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			starts <- start{j.ID, j.Attempt, time.Now()}
			if j.Args.Text == "hold" && !held.Swap(true) {
				until := time.Now().Add(holdFor)
				untils <- until
				if lim != nil {
					return Result{}, runtime.HoldQueueFor(holdFor, errTest) // ends at until or a moment later
				}
				return Result{}, runtime.HoldQueue(until, errTest)
			}
			return Result{N: j.Args.N}, nil
		})
	})
	e.start()
	evs := events(t, e.client)
	holder := must(work.Submit(ctxT(t), e.client, Args{Text: "hold"}, nil))
	if s := recv(t, starts, "the first run"); s.id != holder.ID || s.attempt != 1 {
		t.Fatalf("first run: job %d attempt %d, want job %d attempt 1", s.id, s.attempt, holder.ID)
	}
	until := recv(t, untils, "the hold")
	if lim != nil {
		if got := recv(t, lim.holds, "the limiter's Hold"); got.Before(until) || got.Sub(until) > time.Second {
			t.Fatalf("limiter held until %v, want %v or a moment later", got, until)
		}
	}
	// The job is back to pending once the hold is in force (it is set
	// before the outcome is written), with its attempt given back.
	eventually(t, "the job that held the queue to be pending with no attempt used", func() bool {
		j := getJob(t, e, holder.ID)
		return j.State == storage.StatePending && j.Attempt == 0
	})
	later := must(work.Submit(ctxT(t), e.client, Args{N: 7}, nil))
	for range 2 {
		s := recv(t, starts, "the runs after the hold")
		if s.at.Before(until) {
			t.Errorf("job %d started %v before the hold ended", s.id, until.Sub(s.at))
		}
		if s.id == holder.ID && s.attempt != 1 {
			t.Errorf("the job that held the queue ran again as attempt %d, want 1: the hold used an attempt", s.attempt)
		}
	}
	if res, err := later.Wait(ctxT(t)); err != nil || res.N != 7 {
		t.Fatalf("Wait of the job submitted during the hold = %+v, %v", res, err)
	}
	if _, err := holder.Wait(ctxT(t)); err != nil {
		t.Fatalf("Wait of the job that held the queue: %v", err)
	}
	if j := getJob(t, e, holder.ID); j.Attempt != 1 {
		t.Errorf("the job that held the queue finished after %d attempts, want 1", j.Attempt)
	}
	released := false
	for ev := recv(t, evs, "events"); ev.JobID != holder.ID || !ev.Kind.Terminal(); ev = recv(t, evs, "events") {
		switch {
		case ev.JobID != holder.ID:
		case ev.Kind == runtime.EventRetried:
			t.Errorf("the hold was a retry: %v", ev.Err)
		case ev.Kind == runtime.EventReleased:
			released = true
			if ev.Attempt != 1 || !errors.Is(ev.Err, errTest) || ev.RunAfter.Before(until.Add(-time.Second)) {
				t.Errorf("EventReleased of the hold: attempt %d, err %v, run after %v; want attempt 1, the handler's error, about %v",
					ev.Attempt, ev.Err, ev.RunAfter, until)
			}
		}
	}
	if !released {
		t.Error("the job that held the queue had no EventReleased")
	}
}
