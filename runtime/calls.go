package runtime

import (
	"context"
	"time"
)

// The server bounds every storage call it makes on its own, so that a hung
// connection can neither keep Stop from returning nor stall a loop for
// good. Each call's context derives from one of the server's lifetime
// contexts and ends one lease duration after the call began (see
// Config.LeaseDuration): by then the jobs a call would claim, renew or
// finish may be rescued by another server anyway.
//
//   - Server.life ends when a stop is abandoned: a Stop call's ctx ended
//     before the server had stopped. It parents the calls that carry a
//     stop's own effects, outcome writes (released jobs, outcomes of jobs
//     that just returned), heartbeats and abort checks (handlers still
//     running), and ends as well once the server has stopped.
//   - Server.serving, a child of life, ends at the hard stop as well (see
//     Server.cutDrain: StopAndCancel, Start's ctx ending, a Stop call's ctx
//     ending). It parents what a stopping server no longer needs: claims,
//     retention sweeps, progress publishes and the storage subscription.
//
// Calls made for a caller (submits, aborts, gets, waits) take the caller's
// ctx instead.

// callCtx returns the context of one storage call under parent.
func (s *Server) callCtx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, s.cfg.LeaseDuration)
}

// callBound hands one goroutine the contexts of its storage calls, each
// bounded like callCtx's. A timer per call costs more than a fast backend's
// whole call, so one context serves call after call until less than half of
// its time is left.
type callBound struct {
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time
}

// get returns the context for a call under parent that begins at now, on
// the system clock; d is the bound.
func (b *callBound) get(parent context.Context, now time.Time, d time.Duration) context.Context {
	if b.cancel == nil || b.deadline.Sub(now) < d/2 {
		b.stop()
		b.deadline = now.Add(d)
		b.ctx, b.cancel = context.WithDeadline(parent, b.deadline)
	}
	return b.ctx
}

// stop releases the context get handed out last.
func (b *callBound) stop() {
	if b.cancel != nil {
		b.cancel()
	}
}
