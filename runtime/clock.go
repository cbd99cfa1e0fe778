package runtime

import (
	"time"

	"github.com/jobgen/jobgen/runtime/clock"
)

// timeSource is the clock of a server or client (Config.Clock,
// ClientConfig.Clock).
type timeSource struct {
	clock clock.Clock
	// stamp: the clock is not the system clock, so storage calls carry its
	// time (see storeNow).
	stamp bool
}

func newTimeSource(c clock.Clock) timeSource {
	_, system := c.(clock.Real)
	return timeSource{clock: c, stamp: !system}
}

// now returns the clock's time. The system clock is read directly, so the
// default costs no more than time.Now.
func (t timeSource) now() time.Time {
	if !t.stamp {
		return time.Now()
	}
	return t.clock.Now()
}

// storeNow returns the Now of a storage call's params: zero with the
// system clock, so that storage keeps its own clock (PostgreSQL's), and the
// clock's time otherwise, so that storage sees the time the runtime sees.
func (t timeSource) storeNow() time.Time {
	if !t.stamp {
		return time.Time{}
	}
	return t.clock.Now()
}
