package clock

import (
	"context"
	"sync"
	"time"
)

// Fake is a Clock whose time moves only when Advance moves it. Its timers
// and tickers fire from Advance once their time has come. A test waits with
// BlockUntil until the code under test waits on as many timers as it
// expects, then advances time past them, and never sleeps.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	armed   map[*fakeTimer]struct{}
	changed chan struct{} // closed and replaced whenever armed changes
}

// NewFake returns a fake clock that reads t0 until it is advanced.
func NewFake(t0 time.Time) *Fake {
	return &Fake{now: t0, armed: make(map[*fakeTimer]struct{}), changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the time forward by d and fires every timer and ticker
// whose time has come, in the order of their times. A ticker fires at most
// once per Advance (its channel holds one value, as a time.Ticker's does)
// and is then armed for its next tick after the new time.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	for {
		var next *fakeTimer
		for t := range f.armed {
			if !t.at.After(f.now) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			return
		}
		select {
		case next.ch <- next.at:
		default: // not received yet: a ticker drops the tick, as time.Ticker does
		}
		if next.period > 0 {
			for !next.at.After(f.now) {
				next.at = next.at.Add(next.period)
			}
			continue
		}
		f.disarmLocked(next)
	}
}

// Waiters returns how many timers and tickers are armed.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.armed)
}

// BlockUntil waits until at least n timers and tickers are armed, or ctx
// ends, and returns ctx.Err() then.
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		armed, changed := len(f.armed), f.changed
		f.mu.Unlock()
		if armed >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// NewTimer returns a timer that fires once Advance has moved the time d
// past now.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// NewTicker returns a ticker that fires every d of fake time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	t := &fakeTimer{f: f, ch: make(chan time.Time, 1)}
	t.arm(d, d)
	return fakeTicker{t}
}

func (f *Fake) armLocked(t *fakeTimer) {
	if _, ok := f.armed[t]; !ok {
		f.armed[t] = struct{}{}
		f.notifyLocked()
	}
}

func (f *Fake) disarmLocked(t *fakeTimer) bool {
	if _, ok := f.armed[t]; !ok {
		return false
	}
	delete(f.armed, t)
	f.notifyLocked()
	return true
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// fakeTimer is a timer or, with a period, a ticker of a Fake.
type fakeTimer struct {
	f      *Fake
	ch     chan time.Time
	at     time.Time     // when it fires next; guarded by f.mu
	period time.Duration // zero for a timer
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

// arm sets the timer to fire d from now, then every period (zero: once),
// drops a value sent before and reports whether it was armed.
func (t *fakeTimer) arm(d, period time.Duration) bool {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	was := f.disarmLocked(t)
	t.drain()
	t.at, t.period = f.now.Add(d), period
	f.armLocked(t)
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool { return t.arm(d, 0) }

func (t *fakeTimer) Stop() bool {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	t.drain()
	return f.disarmLocked(t)
}

func (t *fakeTimer) drain() {
	select {
	case <-t.ch:
	default:
	}
}

type fakeTicker struct{ t *fakeTimer }

func (k fakeTicker) C() <-chan time.Time { return k.t.ch }

func (k fakeTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	k.t.arm(d, d)
}

func (k fakeTicker) Stop() { k.t.Stop() }
