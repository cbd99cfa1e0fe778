package runtime

import (
	"context"
	"sync/atomic"
)

// claimsInFlight tracks this server's claims, the fetch loops' and the
// submits', from just before the storage call until the claimed jobs are
// in the server's running set, so that an abort through the attached
// client can wait for a claim that may hold its job (see
// Server.abortLocal). A claim costs two atomic adds and two loads; only
// an abort waits or locks.
//
// Claims are counted in one of two slots, by the parity of an epoch. An
// abort that needs every claim begun before now to be done flips the epoch,
// so that new claims count in the other slot, and waits for the old slot
// to empty. Flips are serialised: a claim that entered its slot before a
// flip is waited for by the first flip after it, and every later flip
// begins after that wait has ended.
type claimsInFlight struct {
	epoch   atomic.Uint64
	active  [2]atomic.Int64
	waiting atomic.Int32  // flips waiting for a slot to empty
	drained chan struct{} // latched when a slot empties while one waits
	flip    chan struct{} // a token: held by the flip in progress
}

func newClaimsInFlight() *claimsInFlight {
	c := &claimsInFlight{drained: make(chan struct{}, 1), flip: make(chan struct{}, 1)}
	c.flip <- struct{}{}
	return c
}

// enter counts a claim that is about to begin and returns its slot for
// exit.
func (c *claimsInFlight) enter() int {
	for {
		e := int(c.epoch.Load() & 1)
		c.active[e].Add(1)
		if int(c.epoch.Load()&1) == e {
			return e
		}
		c.exit(e) // a flip came in between: count in the new slot
	}
}

// exit ends the claim counted in slot e: its jobs are in the running set,
// or it claimed none.
func (c *claimsInFlight) exit(e int) {
	if c.active[e].Add(-1) == 0 && c.waiting.Load() > 0 {
		latch(c.drained)
	}
}

// busy reports whether any claim is in flight.
func (c *claimsInFlight) busy() bool {
	return c.active[0].Load() > 0 || c.active[1].Load() > 0
}

// wait returns once every claim that entered before the call has exited,
// or with ctx's error.
func (c *claimsInFlight) wait(ctx context.Context) error {
	select {
	case <-c.flip:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { c.flip <- struct{}{} }()
	old := int(c.epoch.Add(1)-1) & 1
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	for c.active[old].Load() > 0 {
		select {
		case <-c.drained:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
