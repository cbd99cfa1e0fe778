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

// holdQueue holds the starts of rj's queue as the handler's HoldQueue
// asked, and returns how long the job waits before it runs again: the
// hold's length. The queue's limiter holds it when the queue has one (on
// the system clock, as limiters run); else, or when the limiter fails,
// the queue's local hold does. The call to a limiter whose state lives
// elsewhere is bounded by the lease duration, past which the job would be
// rescued anyway.
func (s *Server) holdQueue(rj *runningJob, h *HoldQueueError) time.Duration {
	q, rec := rj.q, rj.rec
	now := s.clk.now()
	d := h.Delay
	if !h.Until.IsZero() {
		d = max(h.Until.Sub(now), 0)
	}
	s.logger.Info("jobgen: queue held by a handler", jobArgs(rec, "for", d)...)
	if q.limiter != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LeaseDuration)
		err := q.limiter.Hold(ctx, time.Now().Add(d))
		cancel()
		if err == nil {
			return d
		}
		s.logger.Warn("jobgen: limiter hold failed; holding the queue in this server only", logQueue, q.name, logErr, err)
	}
	q.hold.extend(now.Add(d))
	return d
}
