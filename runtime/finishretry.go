package runtime

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// writeStatus is what a flush knows of one outcome's write.
type writeStatus uint8

const (
	// statusUnsent: the outcome was never sent: the lease was lost before
	// (another claim owns the job).
	statusUnsent writeStatus = iota
	// statusNotWritten: storage did not apply the outcome: the lease was no
	// longer held.
	statusNotWritten
	// statusWritten: the outcome is durable.
	statusWritten
	// statusUnknown: the writes failed and were given up; the outcome may
	// or may not have landed.
	statusUnknown
	// statusFailed: storage refused this outcome alone (see
	// storage.JobFinishResult.Err); nothing changed.
	statusFailed
)

// Bounds of the pause between failed outcome writes: it doubles from the
// first to the last, with jitter, so a database that is back gets the
// outcomes within about a second without being flooded while it is down.
const (
	finishBackoffMin = 10 * time.Millisecond
	finishBackoffMax = time.Second
)

// finishTries bounds the tries of an outcome write that fails with an error
// that need not pass (see mayPass): retrying what storage refuses for good
// would hold up every later outcome.
const finishTries = 5

// retryWrite decides, after the attempt-th failed outcome write, whether to
// try again, and waits before it does. A failure that may pass (see
// mayPass) is retried however long it lasts: an outcome is worth a retry as
// long as its lease may still be held, and the fencing token, not the
// time, tells whether it is. Any other error is tried finishTries times.
// Either way retryWrite gives up once the server is stopping past its
// drain (Config.StopTimeout, or a drain cut short) or the stop is
// abandoned (see callCtx). The pause runs on the server's clock.
func (f *finisher) retryWrite(err error, attempt int) bool {
	s := f.s
	if (!mayPass(err) && attempt >= finishTries) || isClosed(s.drainedCh) || s.life.Err() != nil {
		return false
	}
	if attempt == 1 || attempt%60 == 0 {
		s.logger.Warn("jobgen: writing job outcomes failed; retrying", "jobs", len(f.params.Jobs), "try", attempt, logErr, err)
	} else {
		s.logger.Debug("jobgen: writing job outcomes failed again; retrying", "jobs", len(f.params.Jobs), "try", attempt, logErr, err)
	}
	backoff := min(finishBackoffMin<<min(attempt-1, 10), finishBackoffMax)
	timer := s.clk.clock.NewTimer(backoff/2 + rand.N(backoff/2+1))
	defer timer.Stop()
	select {
	case <-timer.C():
		return true
	case <-s.drainedCh:
		return false
	case <-s.life.Done():
		return false
	}
}

// mayPass reports whether err, the error of a storage call, says the call
// failed for a condition that may pass: storage unavailable or busy, or the
// call out of time.
func mayPass(err error) bool {
	return unavailable(err) || errors.Is(err, context.DeadlineExceeded)
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// readBack settles the outcomes of batch that a failed write may have
// written: a call whose connection was lost or timed out may have
// committed before its answer was lost, and the try that then succeeded
// found the lease token already cleared and applied nothing. readBack
// reads each such job and counts its outcome as written when the job shows
// it (see landed); the completion event then goes out as for any write.
func (f *finisher) readBack(batch []finishReq) {
	s := f.s
	for i, req := range batch {
		if f.status[i] != statusNotWritten {
			continue
		}
		job, err := s.store.JobGet(f.bound.get(s.life, time.Now(), s.cfg.LeaseDuration), &storage.JobGetParams{ID: req.f.ID})
		switch {
		case errors.Is(err, storage.ErrNotFound):
			if req.f.Delete && req.f.Outcome.State().Terminal() {
				f.status[i] = statusWritten // our write deleted it
			}
		case err != nil:
			s.logger.Warn("jobgen: outcome write may have landed and cannot be read back; the job is released", jobArgs(req.rj.rec, logErr, err)...)
			f.status[i] = statusUnknown
		case landed(job, req):
			f.status[i] = statusWritten
		}
	}
}

// landed reports whether job, read back after a failed write of req's
// outcome, shows that write. Only the holder of a claim's lease token
// moves a job out of running at that claim's attempt (a claim increments
// the attempt, a rescue too, and every transition out of running clears
// the token), so a job no longer running, at the attempt req's outcome
// leaves it at (a release gives the claim's attempt back), in the state
// the outcome writes, with the error it writes, is req's write. The error
// comparison sets apart a claim's failing of an expired lease
// (lease_expired) at the same attempt.
func landed(job *storage.Job, req finishReq) bool {
	f, attempt := &req.f, req.rj.rec.Attempt
	if f.Outcome == storage.OutcomeRelease {
		attempt--
	}
	if job.State != f.Outcome.State() || job.Attempt != attempt || job.LeaseToken != 0 {
		return false
	}
	switch f.Outcome {
	case storage.OutcomeFail, storage.OutcomeAbort, storage.OutcomeRetry:
		return job.ErrorCode == f.ErrorCode && job.ErrorMessage == f.ErrorMessage
	}
	return true
}
