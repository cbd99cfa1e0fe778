package memory

// The store's indexes are binary min-heaps, written out by hand for speed
// (container/heap costs an interface call per compare), and queues that put
// a FIFO in front of a heap for the common case of entries arriving in
// order. Keys are copied into the entries so that sifting touches only the
// index's own memory. Times are microseconds since the Unix epoch (see
// micros).
//
// The ready and deferred indexes delete lazily: an entry is live only while
// its job is still in that index's location with the same version (see
// job.loc and job.ver); everything else is skipped when it reaches the
// front. That keeps the hot path free of index bookkeeping. The running
// heap is small (the jobs currently held) and changes on every heartbeat,
// so it keeps each job's position and deletes eagerly. The finished queues
// delete lazily too (a finished job can be retried or deleted), but only
// ever lose their front entry.

// readyEntry is a pending job (or a rescue candidate) in claim order.
type readyEntry struct {
	prio int
	at   int64 // RunAfter
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

// timeHeap orders jobs by (time, ID): deferred jobs by RunAfter, and the
// out-of-order part of a timeQueue.
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
	return a.id < b.id
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

// readyQueue is the ready index of one lane, in claim order. Most jobs
// arrive in that order already (same priority, RunAfter = now, growing
// IDs), so it keeps them in a FIFO that pops in O(1) and walks memory
// sequentially; only the entries that would break the FIFO's order go to a
// heap. The next entry is the smaller of the two heads.
type readyQueue struct {
	fifo deque[readyEntry]
	heap readyHeap
}

func (q *readyQueue) len() int { return q.fifo.len() + len(q.heap) }

func (q *readyQueue) push(e readyEntry) {
	if q.fifo.len() == 0 || !e.less(q.fifo.back()) {
		q.fifo.push(e)
		return
	}
	q.heap.push(e)
}

// fromHeap reports whether the next entry is the heap's. Ties go to the
// FIFO, in top and pop alike: a job may have a stale entry with the same key
// as its live one, and both calls must mean the same entry.
func (q *readyQueue) fromHeap() bool {
	return len(q.heap) > 0 && (q.fifo.len() == 0 || q.heap[0].less(q.fifo.front()))
}

// top returns the next entry, or nil when q is empty.
func (q *readyQueue) top() *readyEntry {
	switch {
	case q.fromHeap():
		return &q.heap[0]
	case q.fifo.len() > 0:
		return q.fifo.front()
	}
	return nil
}

// pop removes and returns the next entry; q must not be empty.
func (q *readyQueue) pop() readyEntry {
	if q.fromHeap() {
		return q.heap.pop()
	}
	return q.fifo.pop()
}

// timeQueue orders entries by (time, ID) like timeHeap, with the same FIFO
// shortcut as readyQueue: jobs mostly finish in time order.
type timeQueue struct {
	fifo deque[timeEntry]
	heap timeHeap
}

func (q *timeQueue) len() int { return q.fifo.len() + len(q.heap) }

func (q *timeQueue) push(e timeEntry) {
	if q.fifo.len() == 0 || !e.less(q.fifo.back()) {
		q.fifo.push(e)
		return
	}
	q.heap.push(e)
}

// fromHeap reports whether the next entry is the heap's; ties go to the
// FIFO, as in readyQueue.
func (q *timeQueue) fromHeap() bool {
	return len(q.heap) > 0 && (q.fifo.len() == 0 || q.heap[0].less(q.fifo.front()))
}

// top returns the next entry, or nil when q is empty.
func (q *timeQueue) top() *timeEntry {
	switch {
	case q.fromHeap():
		return &q.heap[0]
	case q.fifo.len() > 0:
		return q.fifo.front()
	}
	return nil
}

// pop removes and returns the next entry; q must not be empty.
func (q *timeQueue) pop() timeEntry {
	if q.fromHeap() {
		return q.heap.pop()
	}
	return q.fifo.pop()
}

// deque is a FIFO of entries in blocks of fixed size, so that it never
// copies its contents to grow, and gives memory back as it drains (all but
// one block).
type deque[E any] struct {
	blocks [][]E // blocks[0][head:] is the front; the last block may be short
	head   int
	n      int
}

const dequeBlock = 512

func (d *deque[E]) len() int { return d.n }

func (d *deque[E]) push(e E) {
	if k := len(d.blocks); k == 0 || len(d.blocks[k-1]) == dequeBlock {
		d.blocks = append(d.blocks, make([]E, 0, dequeBlock))
	}
	last := &d.blocks[len(d.blocks)-1]
	*last = append(*last, e)
	d.n++
}

// front returns the first entry; d must not be empty.
func (d *deque[E]) front() *E { return &d.blocks[0][d.head] }

// back returns the last entry; d must not be empty.
func (d *deque[E]) back() *E {
	b := d.blocks[len(d.blocks)-1]
	return &b[len(b)-1]
}

// pop removes the first entry; d must not be empty.
func (d *deque[E]) pop() E {
	b := d.blocks[0]
	e := b[d.head]
	var zero E
	b[d.head] = zero
	d.head++
	d.n--
	if d.head == len(b) {
		d.head = 0
		if len(d.blocks) == 1 {
			// Empty now: keep the block for the next push.
			d.blocks[0] = b[:0]
		} else {
			d.blocks[0] = nil
			d.blocks = d.blocks[1:]
		}
	}
	return e
}
