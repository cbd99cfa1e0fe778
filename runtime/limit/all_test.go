package limit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fake is a Limiter for the composite's tests: it admits up to max, or
// extra more than asked for, fails Acquire, Hold and Reset with err when
// err is set, and keeps the same accounting as the real limiters. It
// records its holds and resets and otherwise ignores them.
type fake struct {
	mu     sync.Mutex
	held   int
	extra  int
	err    error
	holds  []time.Time
	resets int
}

func (f *fake) Acquire(_ context.Context, _ time.Time, max int) (int, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := max + f.extra
	f.held += n
	return n, 0, f.err // err with n > 0 breaks the contract on purpose
}

func (f *fake) Release(_ context.Context, _ time.Time, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n > f.held {
		f.held = 0
		return ErrOverRelease
	}
	f.held -= n
	return nil
}

func (f *fake) Done(ctx context.Context, now time.Time) error { return f.Release(ctx, now, 1) }

func (f *fake) Hold(_ context.Context, until time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holds = append(f.holds, until)
	return f.err
}

func (f *fake) Reset(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets++
	return f.err
}

func (f *fake) heldNow() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held
}

func TestAllEmptyAdmitsEverything(t *testing.T) {
	t.Parallel()
	a := All(nil, nil)
	acquire(t, a, t0, 7, 7, 0)
	wantErr(t, "Release", a.Release(ctx, t0, 7), nil)
	wantErr(t, "Done", a.Done(ctx, t0), nil)
}

func TestAllAdmitsTheMinimum(t *testing.T) {
	t.Parallel()
	c := Must(NewConcurrency(3))
	r := Must(NewRate(10, 2))
	a := All(c, nil, r)
	acquire(t, a, t0, 5, 2, 0) // the rate's burst
	if got := c.InUse(); got != 2 {
		t.Fatalf("Concurrency.InUse() = %d, want 2: the surplus goes back", got)
	}
	acquire(t, a, t0, 5, 0, ms(100)) // the rate's wait
	if got := c.InUse(); got != 2 {
		t.Fatalf("Concurrency.InUse() = %d, want 2", got)
	}
	acquire(t, a, t0.Add(ms(100)), 5, 1, 0)
	acquire(t, a, t0.Add(time.Hour), 5, 0, 0) // concurrency is full: wait for a job to end
	if got := r.TokensAt(t0.Add(time.Hour)); got != 2 {
		t.Fatalf("Rate.TokensAt = %v, want 2: nothing taken while concurrency is full", got)
	}
	for range 3 {
		wantErr(t, "Done", a.Done(ctx, t0.Add(time.Hour)), nil)
	}
	acquire(t, a, t0.Add(time.Hour), 5, 2, 0)
	wantErr(t, "Release", a.Release(ctx, t0.Add(time.Hour), 2), nil)
	if c.InUse() != 0 || r.held != 0 {
		t.Fatalf("after releasing everything: concurrency holds %d, rate %d", c.InUse(), r.held)
	}
}

func TestAllWaitsForTheSlowest(t *testing.T) {
	t.Parallel()
	s := Must(NewSpacing(time.Second))
	r := Must(NewRate(10, 1))
	a := All(r, s)
	acquire(t, a, t0, 3, 1, 0)
	// Both refuse: the rate for 100ms, the spacing for a second.
	acquire(t, a, t0, 3, 0, time.Second)
	acquire(t, a, t0.Add(ms(500)), 3, 0, ms(500))
	// The rate admits but the spacing does not: the token goes back.
	if got := r.TokensAt(t0.Add(ms(500))); got != 1 {
		t.Fatalf("Rate.TokensAt = %v, want 1", got)
	}
}

func TestAllSpacingReleaseIsUndone(t *testing.T) {
	t.Parallel()
	s := Must(NewSpacing(time.Second))
	c := Must(NewConcurrency(1))
	a := All(s, c)
	acquire(t, a, t0, 1, 1, 0)
	acquire(t, a, t0.Add(2*time.Second), 1, 0, 0) // concurrency full
	wantErr(t, "Done", a.Done(ctx, t0.Add(2*time.Second)), nil)
	// The refused attempt at 2s did not count as a start.
	acquire(t, a, t0.Add(2*time.Second), 1, 1, 0)
}

func TestAllChildErrorKeepsAccounting(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	c := Must(NewConcurrency(3))
	bad := &fake{err: boom} // admits what it is asked for, and fails
	after := &fake{}
	a := All(c, bad, after)
	n, _, err := a.Acquire(ctx, t0, 2)
	if n != 0 || !errors.Is(err, boom) {
		t.Fatalf("Acquire = %d, %v; want 0 and boom", n, err)
	}
	if c.InUse() != 0 || bad.heldNow() != 0 || after.heldNow() != 0 {
		t.Fatalf("a failed Acquire leaked: concurrency %d, failing child %d, last child %d",
			c.InUse(), bad.heldNow(), after.heldNow())
	}
}

func TestAllClampsAGreedyChild(t *testing.T) {
	t.Parallel()
	greedy := &fake{extra: 3}
	c := Must(NewConcurrency(2))
	a := All(greedy, c)
	acquire(t, a, t0, 5, 2, 0)
	if got := greedy.heldNow(); got != 2 {
		t.Fatalf("greedy child holds %d, want 2", got)
	}
}

func TestAllOverRelease(t *testing.T) {
	t.Parallel()
	c1, c2 := Must(NewConcurrency(2)), Must(NewConcurrency(2))
	a := All(c1, c2)
	acquire(t, a, t0, 1, 1, 0)
	wantErr(t, "Release(2) holding 1", a.Release(ctx, t0, 2), ErrOverRelease)
	wantErr(t, "Done holding 0", a.Done(ctx, t0), ErrOverRelease)
	wantErr(t, "Release(-1)", a.Release(ctx, t0, -1), ErrNegativeCount)
	if _, _, err := a.Acquire(ctx, t0, -1); err != ErrNegativeCount {
		t.Fatalf("Acquire(-1): err = %v, want ErrNegativeCount", err)
	}
	acquire(t, a, t0, 5, 2, 0)
}
