package limit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Spacing keeps a minimum time between job starts: it admits one start
// per Acquire, and only once the interval has passed since the last start
// it admitted. A job's end frees nothing.
//
// Release gives back an unused start by restoring the last start time it
// replaced, one level deep: a second Release restores nothing more. Starts
// carry no identity, so Release always undoes the most recent start. When
// fetch loops share one Spacing, a loop that gives back its start after
// another loop was admitted a later one (possible only when its claim took
// longer than the interval) undoes the other loop's start instead; keep
// one Spacing per queue where that matters.
//
// A hold stops starts until it ends; the interval still counts from the
// last start admitted. Reset ends the hold and forgets the last start, so
// the next Acquire admits at once, as after NewSpacing.
//
// The zero value has no interval: it admits one start per Acquire. A
// Spacing is safe for concurrent use.
type Spacing struct {
	mu         sync.Mutex
	interval   time.Duration
	last       time.Time // the last start admitted; zero before the first
	prev       time.Time // what last was before it, while restorable
	restorable bool      // a Release may restore prev
	held       int       // admissions acquired and not yet released or done
	hold       hold      // set by Hold, ended by Reset
}

var _ Limiter = (*Spacing)(nil)

// NewSpacing returns a limiter that admits a start only when at least d
// has passed since the last start. d must be positive.
func NewSpacing(d time.Duration) (*Spacing, error) {
	if d <= 0 {
		return nil, fmt.Errorf("limit: spacing must be positive, got %v", d)
	}
	return &Spacing{interval: d}, nil
}

// Interval returns the minimum time between starts.
func (s *Spacing) Interval() time.Duration { return s.interval }

// Acquire admits one start if max > 0, s is not held and now is at least
// the interval after the last start, and records now as the last start.
// Otherwise wait is the time left until the hold has ended and the
// interval has passed.
func (s *Spacing) Acquire(_ context.Context, now time.Time, max int) (int, time.Duration, error) {
	if max < 0 {
		return 0, 0, ErrNegativeCount
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := s.hold.wait(now)
	if s.interval > 0 && !s.last.IsZero() {
		if next := s.last.Add(s.interval); now.Before(next) {
			wait = maxDuration(wait, next.Sub(now))
		}
	}
	if wait > 0 {
		return 0, wait, nil
	}
	if max == 0 {
		return 0, 0, nil
	}
	s.prev, s.last, s.restorable = s.last, now, true
	s.held++
	return 1, 0, nil
}

// Release gives back n unused starts. The first one given back after a
// start restores the last start time before it, so the next start need not
// wait for the interval after a start that never happened.
func (s *Spacing) Release(_ context.Context, _ time.Time, n int) error {
	if n < 0 {
		return ErrNegativeCount
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := min(n, s.held)
	if k > 0 {
		s.held -= k
		if s.restorable {
			s.last, s.restorable = s.prev, false
		}
	}
	if k < n {
		return ErrOverRelease
	}
	return nil
}

// Done records that an admitted job has ended. The last start time stays.
func (s *Spacing) Done(context.Context, time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == 0 {
		return ErrOverRelease
	}
	s.held--
	return nil
}

// Hold admits no start before until.
func (s *Spacing) Hold(_ context.Context, until time.Time) error {
	s.hold.extend(until)
	return nil
}

// Reset ends the hold and forgets the last start. Admissions still held
// stay held; a Release of them later restores no start time.
func (s *Spacing) Reset(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold.clear()
	s.last, s.prev, s.restorable = time.Time{}, time.Time{}, false
	return nil
}
