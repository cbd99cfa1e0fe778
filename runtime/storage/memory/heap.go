package memory

import (
	"math"
	"time"
)

// The store keeps its indexes in three kinds of binary min-heap, written out
// by hand for speed (container/heap costs an interface call per compare).
// Keys are copied into the entries so that sifting touches only the heap's
// own array.
//
// The ready and deferred heaps delete lazily: an entry is live only while
// its job is still in that heap's location with the same version (see
// job.loc and job.ver); everything else is skipped when it reaches the top.
// That keeps the hot path free of index bookkeeping. The running heap is
// small (the jobs currently held) and changes on every heartbeat, so it
// keeps each job's index and deletes eagerly.

// timeKey turns t into a comparable integer: nanoseconds since the Unix
// epoch, clamped to the range UnixNano can represent (about years 1680 to
// 2260). The zero time is the smallest key.
func timeKey(t time.Time) int64 {
	const lim = math.MaxInt64 / int64(time.Second) // seconds UnixNano can hold
	if t.IsZero() {
		return math.MinInt64
	}
	switch s := t.Unix(); {
	case s >= lim:
		return math.MaxInt64
	case s <= -lim:
		return math.MinInt64 + 1
	}
	return t.UnixNano()
}

// readyEntry is a pending job (or a rescue candidate) in claim order.
type readyEntry struct {
	prio int
	at   int64 // RunAfter key
	id   int64
	j    *job
	ver  uint32
}

func (e *readyEntry) less(o *readyEntry) bool {
	if e.prio != o.prio {
		return e.prio < o.prio
	}
	if e.at != o.at {
		return e.at < o.at
	}
	return e.id < o.id
}

// readyHeap orders jobs by (priority, RunAfter, ID).
type readyHeap []readyEntry

func (h *readyHeap) push(e readyEntry) {
	s := append(*h, e)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !e.less(&s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = e
	*h = s
}

func (h *readyHeap) pop() readyEntry {
	s := *h
	top := s[0]
	n := len(s) - 1
	last := s[n]
	s[n] = readyEntry{}
	s = s[:n]
	if n > 0 {
		i := 0
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if c+1 < n && s[c+1].less(&s[c]) {
				c++
			}
			if !s[c].less(&last) {
				break
			}
			s[i] = s[c]
			i = c
		}
		s[i] = last
	}
	*h = shrink(s)
	return top
}

// timeEntry is a job keyed by one of its times.
type timeEntry struct {
	at  int64
	id  int64
	j   *job
	ver uint32
}

func (e *timeEntry) less(o *timeEntry) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.id < o.id
}

// timeHeap orders jobs by (time, ID): deferred jobs by RunAfter, finished
// jobs by FinishedAt.
type timeHeap []timeEntry

func (h *timeHeap) push(e timeEntry) {
	s := append(*h, e)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !e.less(&s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = e
	*h = s
}

func (h *timeHeap) pop() timeEntry {
	s := *h
	top := s[0]
	n := len(s) - 1
	last := s[n]
	s[n] = timeEntry{}
	s = s[:n]
	if n > 0 {
		i := 0
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if c+1 < n && s[c+1].less(&s[c]) {
				c++
			}
			if !s[c].less(&last) {
				break
			}
			s[i] = s[c]
			i = c
		}
		s[i] = last
	}
	*h = shrink(s)
	return top
}

// runHeap orders running jobs by lease expiry, then ID. Each job knows its
// index (job.runIdx), so a heartbeat can fix and a finish can remove it.
type runHeap []*job

func runLess(a, b *job) bool {
	if a.leaseExp != b.leaseExp {
		return a.leaseExp < b.leaseExp
	}
	return a.ID < b.ID
}

func (h *runHeap) push(j *job) {
	*h = append(*h, j)
	j.runIdx = len(*h) - 1
	h.up(j.runIdx)
}

// remove deletes the job at index i and returns it.
func (h *runHeap) remove(i int) *job {
	s := *h
	j := s[i]
	n := len(s) - 1
	if i != n {
		s[i] = s[n]
		s[i].runIdx = i
	}
	s[n] = nil
	*h = shrink(s[:n])
	if i != n {
		h.fix(i)
	}
	j.runIdx = -1
	return j
}

// fix restores the order after the key of the job at index i changed.
func (h *runHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h runHeap) up(i int) {
	j := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if !runLess(j, h[p]) {
			break
		}
		h[i] = h[p]
		h[i].runIdx = i
		i = p
	}
	h[i] = j
	j.runIdx = i
}

// down moves the job at index i down and reports whether it moved.
func (h runHeap) down(i0 int) bool {
	n := len(h)
	i := i0
	j := h[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && runLess(h[c+1], h[c]) {
			c++
		}
		if !runLess(h[c], j) {
			break
		}
		h[i] = h[c]
		h[i].runIdx = i
		i = c
	}
	h[i] = j
	j.runIdx = i
	return i > i0
}

// shrink gives memory back after a burst: when a large slice is at most a
// quarter full, it is copied into one half the size.
func shrink[E any](s []E) []E {
	if c := cap(s); c > 1024 && len(s) <= c/4 {
		return append(make([]E, 0, c/2), s...)
	}
	return s
}
