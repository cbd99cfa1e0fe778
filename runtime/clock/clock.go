// Package clock is the runtime's source of time: the system clock, or a
// fake one that a test moves by hand, so that lease expiry, deferred jobs,
// retry backoff, retention and polling can be tested without sleeping.
// It imports nothing of jobgen.
package clock

import "time"

// Clock tells the time and makes the timers and tickers that wait on it.
// Implementations are safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that fires once d has passed.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that fires every d; d must be positive.
	NewTicker(d time.Duration) Ticker
}

// Timer is a time.Timer of a Clock. As with time.Timer since Go 1.23, no
// value sent before Reset or Stop is received after it.
type Timer interface {
	// C returns the channel the timer fires on.
	C() <-chan time.Time
	// Reset arms the timer to fire once d has passed and reports whether
	// it was armed.
	Reset(d time.Duration) bool
	// Stop disarms the timer and reports whether it was armed.
	Stop() bool
}

// Ticker is a time.Ticker of a Clock.
type Ticker interface {
	// C returns the channel the ticker fires on.
	C() <-chan time.Time
	// Reset makes the ticker fire every d from now on; d must be positive.
	Reset(d time.Duration)
	// Stop disarms the ticker.
	Stop()
}

// Real is the system clock, the runtime's default.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// NewTicker returns a time.Ticker.
func (Real) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
func (t realTimer) Stop() bool                 { return t.t.Stop() }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time   { return t.t.C }
func (t realTicker) Reset(d time.Duration) { t.t.Reset(d) }
func (t realTicker) Stop()                 { t.t.Stop() }
