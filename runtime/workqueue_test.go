package runtime

import (
	"sync"
	"testing"
	"time"
)

// TestWorkQueueStartsEveryJob: jobs put for waiting workers all start
// although each blocks until all have started, and a job beyond the
// waiting workers is handed back to start a worker for.
func TestWorkQueueStartsEveryJob(t *testing.T) {
	const workers = 32
	w := newWorkQueue()
	var started sync.WaitGroup
	started.Add(workers)
	all := make(chan struct{})
	var done sync.WaitGroup
	for range workers {
		done.Go(func() {
			for rj := w.take(); rj != nil; rj = w.take() {
				started.Done()
				<-all
			}
		})
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	timeout := time.After(10 * time.Second)
	for !w.allWaiting(workers) { // no event announces it
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatal("workers never all waited")
		}
	}
	jobs := make([]*runningJob, workers+1)
	for i := range jobs {
		jobs[i] = new(runningJob)
	}
	if rest := w.put(jobs); len(rest) != 1 || rest[0] != jobs[workers] {
		t.Fatalf("put for %d waiting workers handed back %d of %d jobs, want the last one", workers, len(rest), len(jobs))
	}
	go func() { started.Wait(); close(all) }()
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatal("not every queued job started")
	}
	w.close()
	done.Wait()
}

func (w *workQueue) allWaiting(n int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.waiting == n
}
