package runtime

import (
	"sync/atomic"

	"github.com/jobgen/jobgen/runtime/limit"
)

// queue is one queue the server works.
type queue struct {
	name       string
	maxWorkers int
	limiter    limit.Limiter
	inflight   atomic.Int64
	wake       chan struct{} // capacity 1: a wake-up is latched until the loop waits
	freed      chan struct{} // capacity 1: a slot was freed
	work       *workQueue    // hands started jobs to the workers
	bound      callBound     // bounds the fetch loop's claims; only the loop uses it
	hold       queueHold     // held by a handler (see Server.holdQueue)
}

// newQueue returns queue name configured by qc, whose defaults are filled.
func newQueue(name string, qc QueueConfig) *queue {
	return &queue{name: name, maxWorkers: qc.MaxWorkers, limiter: qc.Limiter, wake: make(chan struct{}, 1), freed: make(chan struct{}, 1), work: newWorkQueue()}
}

func (q *queue) wakeUp() { latch(q.wake) }

// reserve takes up to want of q's free slots for jobs about to be claimed
// and returns how many it took. Every claim reserves first, so the fetch
// loop and a submit that claims (Server.submit) never start more jobs
// than q has slots.
func (q *queue) reserve(want int) int {
	for {
		cur := q.inflight.Load()
		n := min(int64(want), int64(q.maxWorkers)-cur)
		if n <= 0 {
			return 0
		}
		if q.inflight.CompareAndSwap(cur, cur+n) {
			return int(n)
		}
	}
}

// unreserve gives back n reserved slots that no claimed job took.
func (q *queue) unreserve(n int) {
	if n > 0 {
		q.inflight.Add(int64(-n))
	}
}

// slotFreed gives a finished job's slot back. It wakes the loop only when
// the queue stops being full, when half its slots are free and when it
// empties: the loop waits for a freed slot only while the queue is full,
// and then gathers more freed slots before it claims (see coalesce), so a
// wake-up per finished job would only cost a goroutine switch each.
func (q *queue) slotFreed() {
	n := int(q.inflight.Add(-1))
	if n == q.maxWorkers-1 || n == q.maxWorkers/2 || n == 0 {
		latch(q.freed)
	}
}

// coalesce reports whether fewer than half of q's slots are free while jobs
// run, so a claim now would be small.
func (q *queue) coalesce() bool {
	inflight := int(q.inflight.Load())
	return inflight > 0 && q.maxWorkers-inflight < q.maxWorkers/2
}

// latch records a wake-up in a channel of capacity 1 without blocking.
func latch(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
