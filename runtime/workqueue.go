package runtime

import "sync"

// workQueue hands a queue's started jobs to its worker goroutines, which
// live for the server's life. A job never waits for a busy worker: put
// queues jobs only for workers that wait in take, and the caller starts a
// worker for each job beyond them.
//
// Waiting workers are woken one at a time: the woken worker wakes the next
// before it runs its job, while jobs remain queued. A burst of jobs that
// block still starts them all, one goroutine switch apart; a burst of short
// jobs is worked by the few workers that keep up with it, each taking the
// next job as it finishes the last, instead of one goroutine wake-up and
// park per job.
type workQueue struct {
	mu      sync.Mutex
	more    sync.Cond     // a waiting worker is signalled: jobs are queued
	jobs    []*runningJob // queued jobs: jobs[head:]
	head    int
	waiting int  // workers in take; never fewer than the queued jobs
	waking  bool // a waiting worker was signalled and has not woken yet
	closed  bool
}

func newWorkQueue() *workQueue {
	w := &workQueue{}
	w.more.L = &w.mu
	return w
}

// put queues as many of rjs as workers wait for jobs and returns the rest,
// for each of which the caller starts a worker.
func (w *workQueue) put(rjs []*runningJob) (unserved []*runningJob) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(rjs), w.waiting-w.queued())
	if n <= 0 {
		return rjs
	}
	w.jobs = append(w.jobs, rjs[:n]...)
	w.wakeOne()
	return rjs[n:]
}

// take returns the next queued job, waiting for one, or nil once the queue
// is closed and empty.
func (w *workQueue) take() *runningJob {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.queued() == 0 {
		if w.closed {
			return nil
		}
		w.waiting++
		w.more.Wait()
		w.waiting--
		w.waking = false // only put and take signal, and only one at a time
	}
	rj := w.jobs[w.head]
	w.jobs[w.head] = nil
	w.head++
	if w.head == len(w.jobs) {
		w.jobs, w.head = w.jobs[:0], 0
	} else {
		w.wakeOne()
	}
	return rj
}

// wakeOne signals a waiting worker unless one is already on its way.
func (w *workQueue) wakeOne() {
	if !w.waking && w.waiting > 0 {
		w.waking = true
		w.more.Signal()
	}
}

// close ends the waiting workers once no job can follow.
func (w *workQueue) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.more.Broadcast()
}

func (w *workQueue) queued() int { return len(w.jobs) - w.head }
