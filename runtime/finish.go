package runtime

import (
	goruntime "runtime"
	"sync/atomic"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// finishBatch caps how many outcomes one storage call writes.
const finishBatch = 1024

// finishReq is one attempt's outcome waiting to be written.
type finishReq struct {
	rj  *runningJob
	f   storage.JobFinish
	err error // the handler's error, for events and logs
}

// finisher writes outcomes in batches: whatever finished while the previous
// write was in flight goes into the next one (group commit). Waiters and
// events are released only after the write returns, so WaitFor never sees
// an outcome that is not durable.
type finisher struct {
	s    *Server
	ch   chan finishReq
	done chan struct{}

	// The bound of the writes and buffers reused by every flush; only the
	// finisher's goroutine uses them.
	bound  callBound
	params storage.JobFinishParams
	idx    []int         // batch index of each entry of params.Jobs
	status []writeStatus // per batch entry: what became of its outcome

	// retrying: a write failed and is being retried; the heartbeat renews
	// the leases of jobs whose handlers returned meanwhile (see
	// Server.heartbeat).
	retrying atomic.Bool
}

func newFinisher(s *Server) *finisher {
	return &finisher{s: s, ch: make(chan finishReq, finishBatch), done: make(chan struct{})}
}

func (f *finisher) submit(rj *runningJob, fin storage.JobFinish, err error) {
	fin.ID, fin.LeaseToken = rj.rec.ID, rj.rec.LeaseToken
	f.ch <- finishReq{rj: rj, f: fin, err: err}
}

// close stops the finisher once every job has been handed to it.
func (f *finisher) close() {
	close(f.ch)
	<-f.done
}

func (f *finisher) run() {
	defer close(f.done)
	defer f.bound.stop()
	batch := make([]finishReq, 0, finishBatch)
	for req := range f.ch {
		batch = append(batch[:0], req)
		batch = f.fill(batch)
		if len(batch) < finishBatch && othersRunning(batch) {
			// A worker's send made the finisher runnable ahead of the
			// workers still running: let them finish first, so that one
			// write takes their outcomes too instead of one write each.
			// Where nothing else is runnable this costs one scheduler
			// round trip.
			goruntime.Gosched()
			batch = f.fill(batch)
		}
		f.flush(batch)
	}
}

// othersRunning reports whether jobs of the first entry's queue hold more
// slots than the batch has entries, that is whether some of them are still
// running and will finish soon.
func othersRunning(batch []finishReq) bool {
	return batch[0].rj.q.inflight.Load() > int64(len(batch))
}

// fill adds to batch what is waiting in f.ch, up to finishBatch entries.
func (f *finisher) fill(batch []finishReq) []finishReq {
	for len(batch) < finishBatch {
		select {
		case req, ok := <-f.ch:
			if !ok {
				return batch
			}
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// flush writes one batch (see write), tells this process's observers about
// every outcome that was written and releases the batch's jobs.
func (f *finisher) flush(batch []finishReq) {
	s := f.s
	for i := range batch {
		batch[i].f.Delete = s.deleteOnFinish(batch[i].f.Outcome)
	}
	f.status = append(f.status[:0], make([]writeStatus, len(batch))...)
	if f.write(batch) {
		f.readBack(batch)
	}
	now := s.clk.now()
	for i, req := range batch {
		switch {
		case f.status[i] == statusWritten:
			s.written(req, now)
		case f.status[i] == statusNotWritten && !req.rj.lost.Load():
			s.logger.Warn("jobgen: outcome not written: the job's lease is no longer held", jobArgs(req.rj.rec)...)
		}
	}
	s.jobsDone(batch)
}

// write writes the outcomes of batch whose leases are held, setting
// f.status, and reports whether a failed call may have written some of
// them before storage answered again (then readBack settles them). A
// failed write is retried with capped exponential backoff for as long as
// it can still succeed and matter (see retryWrite). Its jobs stay in the
// running set meanwhile, and the heartbeat renews their leases, and those
// of the outcomes queued behind them, and tells when one is lost (see
// f.retrying); an entry whose lease is lost is left out of the next try.
// Each entry is fenced by its lease token, so a try never applies an
// outcome a failed one already wrote. Each try is bounded by about one
// lease duration. When write gives up, the jobs whose outcome it could not
// write are rescued when their leases expire.
func (f *finisher) write(batch []finishReq) (uncertain bool) {
	s := f.s
	defer f.retrying.Store(false)
	for attempt := 1; ; attempt++ {
		f.params.Jobs, f.idx, f.params.Now = f.params.Jobs[:0], f.idx[:0], s.clk.storeNow()
		for i, req := range batch {
			if !req.rj.lost.Load() { // else another claim owns the job now
				f.params.Jobs = append(f.params.Jobs, req.f)
				f.idx = append(f.idx, i)
				f.status[i] = statusNotWritten
			}
		}
		if len(f.params.Jobs) == 0 {
			return uncertain
		}
		res, err := s.store.JobFinish(f.bound.get(s.life, time.Now(), s.cfg.LeaseDuration), &f.params)
		if err == nil {
			for k, i := range f.idx {
				switch err := res.Err(k); {
				case res.Applied[k]:
					f.status[i] = statusWritten
				case err != nil:
					// As when the whole write fails, for this job alone.
					f.status[i] = statusFailed
					s.logger.Error("jobgen: writing the job's outcome failed; the job will be rescued when its lease expires", jobArgs(batch[i].rj.rec, logErr, err)...)
				}
			}
			if attempt > 1 {
				s.logger.Info("jobgen: job outcomes written after failed writes", "jobs", len(f.params.Jobs), "tries", attempt)
			}
			return uncertain
		}
		uncertain = true
		f.retrying.Store(true)
		if !f.retryWrite(err, attempt) {
			s.logger.Error("jobgen: writing job outcomes failed; unless a failed write landed, the jobs will be rescued when their leases expire",
				"jobs", len(f.params.Jobs), "tries", attempt, logErr, err)
			for _, i := range f.idx {
				f.status[i] = statusUnknown
			}
			return false
		}
	}
}

// deleteOnFinish reports whether a job reaching outcome's state is deleted
// at once (a negative retention TTL). This is the fast path for the jobs
// the finisher writes; the sweep deletes those that reach the state
// otherwise (see Server.sweep).
func (s *Server) deleteOnFinish(o storage.Outcome) bool {
	r := s.cfg.Retention
	switch o {
	case storage.OutcomeComplete:
		return r.Completed < 0
	case storage.OutcomeFail:
		return r.Failed < 0
	case storage.OutcomeAbort:
		return r.Aborted < 0
	}
	return false
}

// written tells this process's observers about an outcome that is durable.
func (s *Server) written(req finishReq, now time.Time) {
	rec := req.rj.rec
	ev := Event{JobID: rec.ID, JobKind: rec.Kind, Queue: rec.Queue, Attempt: rec.Attempt, Err: req.err, At: now}
	switch req.f.Outcome {
	case storage.OutcomeRelease:
		ev.Kind, ev.RunAfter = EventReleased, now.Add(req.f.RetryDelay)
		if runOutcome(&req.f, req.err) == RunSnoozed {
			ev.Kind, ev.Err = EventSnoozed, nil
		}
		s.hub.emit(ev)
		req.rj.q.wakeUp()
		return
	case storage.OutcomeRetry:
		ev.Kind = EventRetried
		ev.RunAfter = now.Add(req.f.RetryDelay)
		s.hub.emit(ev)
		req.rj.q.wakeUp() // the loop's idle delay may now be shorter
		s.logger.Debug("jobgen: job will be retried", outcomeArgs(rec, &req.f, "delay", req.f.RetryDelay)...)
		return
	}
	if req.f.Outcome == storage.OutcomeFail {
		s.logger.Warn("jobgen: job failed", outcomeArgs(rec, &req.f)...)
	}
	if !s.hub.observed() {
		return // nobody waits or listens: skip building the record
	}
	// The finished record is built from the claim's fields and the outcome;
	// the fields a claim does not carry (priority, RunAfter, unique key,
	// AttemptedAt) stay zero, since waiters read only the outcome.
	final := &storage.Job{
		ID:           rec.ID,
		Kind:         rec.Kind,
		Queue:        rec.Queue,
		Input:        rec.Input,
		Output:       req.f.Output,
		State:        req.f.Outcome.State(),
		Attempt:      rec.Attempt,
		MaxAttempts:  rec.MaxAttempts,
		Deadline:     rec.Deadline,
		Timeout:      rec.Timeout,
		Metadata:     rec.Metadata,
		ErrorMessage: req.f.ErrorMessage,
		ErrorCode:    req.f.ErrorCode,
		CreatedAt:    rec.CreatedAt,
		FinishedAt:   now,
	}
	switch final.State {
	case storage.StateCompleted:
		ev.Kind = EventCompleted
	case storage.StateFailed:
		ev.Kind = EventFailed
		ev.Err = jobError(final, req.err)
	case storage.StateAborted:
		ev.Kind = EventAborted
		ev.Err = jobError(final, req.err)
	}
	s.hub.finished(final, ev)
}

// jobsDone releases the in-flight bookkeeping of a batch of jobs, whatever
// happened to their writes: the running entries, the queue slots, the
// limiter permits.
func (s *Server) jobsDone(batch []finishReq) {
	s.mu.Lock()
	for _, req := range batch {
		delete(s.running, req.rj.rec.ID)
	}
	s.mu.Unlock()
	for _, req := range batch {
		rj := req.rj
		rj.markWritten()
		rj.cancel(nil)
		if rj.q.limiter != nil {
			// Done ends with the server; no limiter blocks in it, so it needs
			// no timer of its own (one per job).
			if err := rj.q.limiter.Done(s.life, time.Now()); err != nil {
				s.logger.Error("jobgen: limiter bookkeeping failed", logQueue, rj.q.name, logErr, err)
			}
		}
		rj.q.slotFreed()
		s.jobs.Done()
	}
}
