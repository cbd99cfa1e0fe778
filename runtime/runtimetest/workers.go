package runtimetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// testSlotsRunTogether: a queue runs as many jobs at once as it has
// slots, round after round: no claimed job waits for another to finish
// before it starts. Each job of a round blocks until the whole round runs.
func testSlotsRunTogether(t *testing.T, newStore NewStore) {
	const maxWorkers, rounds = 16, 3
	var running atomic.Int64
	var full [rounds]chan struct{}
	for i := range full {
		full[i] = make(chan struct{})
	}
	e := newEnv(t, newStore, runtime.Config{
		PollInterval: slowPoll,
		Queues:       map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: maxWorkers}},
	}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			round := j.Args.N / maxWorkers
			if running.Add(1) == int64((round+1)*maxWorkers) {
				close(full[round])
			}
			select {
			case <-full[round]:
				return Result{N: j.Args.N}, nil
			case <-time.After(deadline):
				return Result{}, runtime.Permanent(fmt.Errorf("round %d never had %d jobs running at once", round, maxWorkers))
			}
		})
	})
	e.start()
	for round := range rounds {
		handles := make([]*runtime.Handle[Result], maxWorkers)
		for i := range handles {
			handles[i] = must(work.Submit(ctxT(t), e.client, Args{N: round*maxWorkers + i}, nil))
		}
		for _, h := range handles {
			if _, err := h.Wait(ctxT(t)); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}
