package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// benchArgs are the arguments of every benchmark job: its number, so the
// tracker can tell that each job ran exactly once.
type benchArgs struct {
	N int `json:"n"`
}

// tracker counts handler runs per job number and completions, and signals
// when the expected number of completions has been seen.
type tracker struct {
	runs      []atomic.Int32
	completed atomic.Int64
	want      int64
	done      chan struct{}
}

func newTracker(n int) *tracker {
	return &tracker{runs: make([]atomic.Int32, n), want: int64(n), done: make(chan struct{})}
}

// ran records that the handler ran job number n.
func (t *tracker) ran(n int) {
	if n >= 0 && n < len(t.runs) {
		t.runs[n].Add(1)
	}
}

// complete records one completion observed durably.
func (t *tracker) complete() {
	if t.completed.Add(1) == t.want {
		close(t.done)
	}
}

// wait blocks until every job has completed, or the timeout or ctx ends.
func (t *tracker) wait(ctx context.Context, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("timed out after %s with %d of %d jobs completed", timeout, t.completed.Load(), t.want)
	}
}

// check fails unless every job ran exactly once and exactly want
// completions were observed.
func (t *tracker) check() error {
	if c := t.completed.Load(); c != t.want {
		return fmt.Errorf("observed %d completions, want %d", c, t.want)
	}
	var missing, repeated int
	first := -1
	for i := range t.runs {
		switch v := t.runs[i].Load(); {
		case v == 0:
			missing++
		case v > 1:
			repeated++
		default:
			continue
		}
		if first < 0 {
			first = i
		}
	}
	if missing > 0 || repeated > 0 {
		return fmt.Errorf("jobs must run exactly once: %d never ran, %d ran more than once (first: job %d)", missing, repeated, first)
	}
	return nil
}

// checkStored fails unless storage counts want completed jobs out of want.
func checkStored(total, completed, want int64) error {
	if total != want || completed != want {
		return fmt.Errorf("storage holds %d jobs, %d of them completed; want %d completed of %d", total, completed, want, want)
	}
	return nil
}
