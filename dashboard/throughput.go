package dashboard

import (
	"sync"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// rateMinutes is how many whole minutes the throughput columns cover.
const rateMinutes = 5

// throughput counts the jobs that completed and failed per queue and per
// minute, from the events this process sees, over the last rateMinutes
// minutes (a ring of minute buckets per queue). Jobs finished by other
// processes are not events here, so a dashboard whose process runs no
// server sees none and says so.
type throughput struct {
	start time.Time

	mu     sync.Mutex
	seen   bool // some job finished since start
	queues map[string]*minuteRing
}

// minuteRing holds one queue's counts for the last rateMinutes+1 minutes
// (the current one included), indexed by Unix minute modulo the ring size.
type minuteRing struct {
	minute    [rateMinutes + 1]int64
	completed [rateMinutes + 1]int
	failed    [rateMinutes + 1]int
}

func newThroughput(now time.Time) *throughput {
	return &throughput{start: now, queues: make(map[string]*minuteRing)}
}

// observe counts ev when it is a completion or a failure.
func (t *throughput) observe(ev runtime.Event) {
	if ev.Kind != runtime.EventCompleted && ev.Kind != runtime.EventFailed {
		return
	}
	m := ev.At.Unix() / 60
	i := int(m % int64(len(minuteRing{}.minute)))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen = true
	r := t.queues[ev.Queue]
	if r == nil {
		r = &minuteRing{}
		t.queues[ev.Queue] = r
	}
	if r.minute[i] != m {
		r.minute[i], r.completed[i], r.failed[i] = m, 0, 0
	}
	if ev.Kind == runtime.EventCompleted {
		r.completed[i]++
	} else {
		r.failed[i]++
	}
}

// rate is one queue's throughput over the window: the current minute and
// the rateMinutes whole minutes before it, or since the dashboard started
// when that is later.
type rate struct {
	// Known is false when no job finished in this process since the
	// dashboard started: the numbers would be a guess.
	Known bool
	// Completed and Failed count each minute of the window, oldest first,
	// the current one last.
	Completed, Failed []int
	// Done and Errors are the window's totals.
	Done, Errors int
	// Span is how long the window is.
	Span time.Duration
	// PerMinute is Done per minute of the window (of at least a minute).
	PerMinute float64
}

// rate returns queue's throughput at now.
func (t *throughput) rate(queue string, now time.Time) rate {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.seen {
		return rate{}
	}
	cur := now.Unix() / 60
	first := max(cur-rateMinutes, t.start.Unix()/60)
	from := time.Unix(first*60, 0)
	if from.Before(t.start) {
		from = t.start
	}
	r := rate{Known: true, Span: now.Sub(from)}
	ring := t.queues[queue]
	for m := first; m <= cur; m++ {
		c, f := 0, 0
		if i := int(m % int64(len(minuteRing{}.minute))); ring != nil && ring.minute[i] == m {
			c, f = ring.completed[i], ring.failed[i]
		}
		r.Completed, r.Failed = append(r.Completed, c), append(r.Failed, f)
		r.Done += c
		r.Errors += f
	}
	r.PerMinute = float64(r.Done) / max(1, r.Span.Minutes())
	return r
}
