package limit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate admits job starts at a steady rate with bursts: a token bucket that
// holds up to burst tokens, starts full and refills at r tokens a second.
// Each start takes one token. It follows golang.org/x/time/rate: given the
// same times and no releases, Acquire admits exactly what
// [rate.Limiter.AllowN] would, and an Acquire at now+wait admits.
//
// Unlike [rate.Limiter], a Rate takes back tokens that were not used:
// Release returns them to the bucket (up to burst), so a claim that found
// no job does not spend the rate. A job's end frees nothing; Done only
// checks the caller's accounting.
//
// A hold stops admissions but not the refill: the bucket fills up while
// held, so when the hold ends up to burst starts are admitted at once.
// Reset ends the hold and fills the bucket, as NewRate made it.
//
// Time that goes backwards (concurrent callers reading the clock in one
// order and calling in another) refills nothing and never rewinds the
// bucket.
//
// The zero value admits nothing; create one with [NewRate]. A Rate is safe
// for concurrent use.
type Rate struct {
	mu     sync.Mutex
	limit  rate.Limit
	burst  int
	tokens float64   // tokens in the bucket at last
	last   time.Time // when tokens was last brought up to date
	held   int       // admissions acquired and not yet released or done
	hold   hold      // set by Hold, ended by Reset
}

var _ Limiter = (*Rate)(nil)

// NewRate returns a limiter that admits r starts a second on average, with
// bursts of up to burst starts. r == [rate.Inf] admits everything and
// ignores burst; r == 0 admits burst starts in all (plus any that are
// released) and then none. r must not be negative, and burst must be at
// least 1 unless r is rate.Inf. Use [rate.Every] to give r as an interval.
func NewRate(r rate.Limit, burst int) (*Rate, error) {
	switch {
	case math.IsNaN(float64(r)) || r < 0:
		return nil, fmt.Errorf("limit: rate must be zero or positive, got %v", float64(r))
	case r != rate.Inf && burst < 1:
		return nil, fmt.Errorf("limit: burst must be at least 1, got %d", burst)
	}
	return &Rate{limit: r, burst: burst, tokens: float64(burst)}, nil
}

// Limit returns the rate, in starts a second.
func (l *Rate) Limit() rate.Limit { return l.limit }

// Burst returns the most starts admitted at once.
func (l *Rate) Burst() int { return l.burst }

// TokensAt returns how many tokens the bucket holds at now, which is how
// many starts Acquire would admit (rounded down) if l were not held.
func (l *Rate) TokensAt(now time.Time) float64 {
	if l.limit == rate.Inf {
		return math.Inf(1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	tokens, _ := l.advance(now)
	return tokens
}

// Acquire admits as many starts as the bucket holds whole tokens at now,
// up to max, unless l is held. When it admits none, wait is how long until
// the next token, or until the hold ends if that is later; it is
// [rate.InfDuration] when the rate is zero.
func (l *Rate) Acquire(_ context.Context, now time.Time, max int) (int, time.Duration, error) {
	if max < 0 {
		return 0, 0, ErrNegativeCount
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.hold.wait(now); w > 0 {
		if l.limit == rate.Inf {
			return 0, w, nil
		}
		tokens, _ := l.advance(now)
		return 0, maxDuration(w, l.wait(now, tokens)), nil
	}
	if l.limit == rate.Inf {
		l.held += max
		return max, 0, nil
	}
	tokens, at := l.advance(now)
	n := min(max, int(tokens)) // tokens is never negative: int rounds down
	if n == 0 {
		return 0, l.wait(now, tokens), nil
	}
	l.tokens = tokens - float64(n)
	l.last = at
	l.held += n
	return n, 0, nil
}

// Release puts n unused tokens back in the bucket (never above burst).
func (l *Rate) Release(_ context.Context, now time.Time, n int) error {
	if n < 0 {
		return ErrNegativeCount
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := min(n, l.held)
	if k > 0 {
		l.held -= k
		if l.limit != rate.Inf {
			tokens, at := l.advance(now)
			l.tokens = min(tokens+float64(k), float64(l.burst))
			l.last = at
		}
	}
	if k < n {
		return ErrOverRelease
	}
	return nil
}

// Done records that an admitted job has ended. It frees no token: the
// start has happened and counts against the rate.
func (l *Rate) Done(context.Context, time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == 0 {
		return ErrOverRelease
	}
	l.held--
	return nil
}

// Hold admits no start before until. The bucket keeps filling meanwhile.
func (l *Rate) Hold(_ context.Context, until time.Time) error {
	l.hold.extend(until)
	return nil
}

// Reset ends the hold and fills the bucket to burst. Admissions still
// held stay held; a Release of them later adds nothing past burst.
func (l *Rate) Reset(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hold.clear()
	l.tokens = float64(l.burst)
	return nil
}

// advance returns the tokens in the bucket at now, and now moved no
// earlier than the last update. It does not change l. The arithmetic is
// rate.Limiter's, so both round the same way.
func (l *Rate) advance(now time.Time) (float64, time.Time) {
	if now.Before(l.last) {
		now = l.last
	}
	tokens := l.tokens
	if l.limit > 0 {
		tokens += now.Sub(l.last).Seconds() * float64(l.limit)
	}
	return min(tokens, float64(l.burst)), now
}

// wait returns how long from now until the bucket, holding tokens at now,
// holds one whole token. It is rounded up so that an Acquire at now+wait
// admits: it computes the refill from l.last, as Acquire will.
func (l *Rate) wait(now time.Time, tokens float64) time.Duration {
	if tokens >= 1 {
		return 0
	}
	if l.limit <= 0 {
		return rate.InfDuration
	}
	ns := math.Ceil((1 - l.tokens) / float64(l.limit) * float64(time.Second))
	if ns >= math.MaxInt64 {
		return rate.InfDuration
	}
	// Float rounding can put the estimate a few nanoseconds off the
	// shortest refill that makes a whole token; step to it.
	e := time.Duration(ns)
	whole := func(e time.Duration) bool { return l.tokens+e.Seconds()*float64(l.limit) >= 1 }
	for i := 0; i < 16 && e > 1 && whole(e-1); i++ {
		e--
	}
	for i := 0; i < 16 && !whole(e); i++ {
		e++
	}
	if now.Before(l.last) {
		return l.last.Sub(now) + e
	}
	return max(l.last.Add(e).Sub(now), 1)
}
