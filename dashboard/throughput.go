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

// rate is one queue's throughput over the last whole minutes.
type rate struct {
	// Known is false when no job finished in this process since the
	// dashboard started: the numbers would be a guess.
	Known bool
	// Completed and Failed are per whole minute, oldest first.
	Completed, Failed []int
	// Minutes is how many whole minutes the averages cover (fewer than
	// rateMinutes while the dashboard is younger).
	Minutes int
	// PerMinute and FailedPerMinute are the averages over Minutes.
	PerMinute, FailedPerMinute float64
	// NowCompleted and NowFailed count the current, unfinished minute.
	NowCompleted, NowFailed int
}

// rate returns queue's throughput over the whole minutes before now.
func (t *throughput) rate(queue string, now time.Time) rate {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.seen {
		return rate{}
	}
	minutes := min(rateMinutes, max(1, int(now.Sub(t.start)/time.Minute)))
	r := rate{Known: true, Minutes: minutes, Completed: make([]int, minutes), Failed: make([]int, minutes)}
	ring := t.queues[queue]
	cur := now.Unix() / 60
	sumC, sumF := 0, 0
	for k := range minutes {
		m := cur - int64(minutes-k)
		i := int(m % int64(len(minuteRing{}.minute)))
		if ring != nil && ring.minute[i] == m {
			r.Completed[k], r.Failed[k] = ring.completed[i], ring.failed[i]
			sumC += ring.completed[i]
			sumF += ring.failed[i]
		}
	}
	if i := int(cur % int64(len(minuteRing{}.minute))); ring != nil && ring.minute[i] == cur {
		r.NowCompleted, r.NowFailed = ring.completed[i], ring.failed[i]
	}
	r.PerMinute = float64(sumC) / float64(minutes)
	r.FailedPerMinute = float64(sumF) / float64(minutes)
	return r
}
