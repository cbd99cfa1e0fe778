package limit

import (
	"sync/atomic"
	"time"
)

// hold keeps a limiter from admitting before a time: the rule every
// limiter's Hold follows. A hold only extends: holding until a later time
// replaces it, holding until an earlier one changes nothing. The zero
// value holds nothing. A hold is safe for concurrent use; it takes no lock.
type hold struct{ until atomic.Pointer[time.Time] }

// extend holds until t, unless the hold already lasts until t or later.
func (h *hold) extend(t time.Time) {
	for {
		cur := h.until.Load()
		if cur != nil && !t.After(*cur) {
			return
		}
		if h.until.CompareAndSwap(cur, &t) {
			return
		}
	}
}

// wait returns how long the hold lasts from now; zero when it has ended.
func (h *hold) wait(now time.Time) time.Duration {
	if u := h.until.Load(); u != nil && now.Before(*u) {
		return u.Sub(now)
	}
	return 0
}

// clear ends the hold.
func (h *hold) clear() { h.until.Store(nil) }
