package runtime

import (
	"context"
	"sync/atomic"
	"time"
)

// queueHold is the hold of a queue without a limiter: no job of the queue
// starts in this server before it ends (see HoldQueue).
type queueHold struct {
	until atomic.Int64 // unix nanoseconds; 0 when never held
}

// extend holds until t unless a later hold is set: a hold only extends.
func (h *queueHold) extend(t time.Time) {
	n := t.UnixNano()
	for {
		cur := h.until.Load()
		if cur >= n || h.until.CompareAndSwap(cur, n) {
			return
		}
	}
}

// remaining returns how long the hold lasts after now; zero or less when
// it does not.
func (h *queueHold) remaining(now time.Time) time.Duration {
	u := h.until.Load()
	if u == 0 {
		return 0
	}
	return time.Unix(0, u).Sub(now)
}

// holdQueue holds q's starts until until, for a handler that returned
// HoldQueue: through q's limiter when it has one, else (or when the
// limiter fails) locally. The call to a limiter whose state lives
// elsewhere is bounded by the lease duration, past which the job would
// be rescued anyway.
func (s *Server) holdQueue(rj *runningJob, until time.Time) {
	q, rec := rj.q, rj.rec
	s.logger.Info("jobgen: queue held by a handler", "queue", q.name, "until", until, "job_id", rec.ID, "kind", rec.Kind)
	if q.limiter != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LeaseDuration)
		err := q.limiter.Hold(ctx, until)
		cancel()
		if err == nil {
			return
		}
		s.logger.Error("jobgen: limiter hold failed; holding the queue in this server only", "queue", q.name, "err", err)
	}
	q.hold.extend(until)
}
