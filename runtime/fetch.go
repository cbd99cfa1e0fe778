package runtime

import (
	"context"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// fetchLoop claims and starts jobs of one queue until Stop begins. It wakes
// on an attached submit, a freed slot, a retry write, a storage
// notification or the poll timer; a wake-up that arrives while it is busy is
// latched (q.wake, q.freed), so the next wait returns at once. When nothing is
// ready it sleeps until the earliest deferred job is due or the poll
// interval passes, whichever is sooner.
func (s *Server) fetchLoop(q *queue) {
	defer s.loops.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-s.stopCh:
			return
		default:
		}
		delay, again := s.fetch(q)
		if again {
			continue
		}
		timer.Reset(delay)
		select {
		case <-q.wake:
		case <-q.freed:
			if !s.coalesce(q, timer) {
				return
			}
		case <-timer.C:
		case <-s.stopCh:
			return
		}
	}
}

// coalesce waits, after a freed slot woke the loop, until half of q's slots
// are free, no job runs, a submit wakes the loop or fetchCooldown passes,
// so that one claim fills many slots. It returns false when Stop began.
func (s *Server) coalesce(q *queue, timer *time.Timer) bool {
	if !q.coalesce() {
		return true
	}
	timer.Reset(fetchCooldown)
	for q.coalesce() {
		select {
		case <-q.freed:
		case <-q.wake:
			return true
		case <-timer.C:
			return true
		case <-s.stopCh:
			return false
		}
	}
	return true
}

// fetchCooldown is how long a loop woken by a freed slot waits for more
// slots to free before it claims, when less than half its slots are free.
// Submits and notifications wake it at once regardless.
const fetchCooldown = time.Millisecond

// fetch makes one claim for q and starts what it got. It returns how long
// the loop may sleep, or again when it should claim once more right away.
func (s *Server) fetch(q *queue) (delay time.Duration, again bool) {
	poll := s.cfg.PollInterval
	free := q.maxWorkers - int(q.inflight.Load())
	if free <= 0 {
		return poll, false // a finishing job wakes the loop
	}
	n := free
	if q.limiter != nil {
		got, wait, err := q.limiter.Acquire(time.Now(), free)
		if err != nil {
			s.logger.Error("jobgen: limiter failed", "queue", q.name, "err", err)
			return poll, false
		}
		if got <= 0 {
			if wait <= 0 || wait > poll {
				wait = poll
			}
			return wait, false
		}
		n = min(got, free)
		if got > n {
			s.limiterRelease(q, got-n)
		}
	}
	res, err := s.store.JobClaim(context.Background(), &storage.JobClaimParams{
		Queue:         q.name,
		Kinds:         s.kindNames,
		Limit:         n,
		LeaseDuration: s.cfg.LeaseDuration,
	})
	if err != nil {
		if q.limiter != nil {
			s.limiterRelease(q, n)
		}
		s.logger.Error("jobgen: claim failed", "queue", q.name, "err", err)
		return poll, false
	}
	if q.limiter != nil && len(res.Jobs) < n {
		s.limiterRelease(q, n-len(res.Jobs))
	}
	stopping := s.closing.Load()
	if len(res.Jobs) > 0 {
		s.startAll(q, res.Jobs, res.Now, stopping)
	}
	if len(res.Jobs) == n && !stopping {
		return 0, true
	}
	delay = poll
	if !res.NextRunAfter.IsZero() {
		if d := res.NextRunAfter.Sub(res.Now); d < delay {
			delay = max(d, time.Millisecond)
		}
	}
	return delay, false
}

func (s *Server) limiterRelease(q *queue, n int) {
	if err := q.limiter.Release(time.Now(), n); err != nil {
		s.logger.Error("jobgen: limiter release failed", "queue", q.name, "err", err)
	}
}
