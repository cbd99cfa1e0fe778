package limit

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// holdUntil holds l until t0+d and fails the test on an error.
func holdUntil(t *testing.T, l Limiter, d time.Duration) {
	t.Helper()
	if err := l.Hold(ctx, t0.Add(d)); err != nil {
		t.Fatalf("Hold(t0+%v): %v", d, err)
	}
}

// reset resets l and fails the test on an error.
func reset(t *testing.T, l Limiter) {
	t.Helper()
	if err := l.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
}

// TestHoldRule checks the rule every limiter shares: a hold admits
// nothing before its end, a later hold extends it, an earlier one does
// not shorten it, it ends by itself, and Reset ends it early.
func TestHoldRule(t *testing.T) {
	t.Parallel()
	for name, l := range map[string]func() Limiter{
		"Concurrency": func() Limiter { return Must(NewConcurrency(5)) },
		"Rate":        func() Limiter { return Must(NewRate(1000, 5)) },
		"RateInf":     func() Limiter { return Must(NewRate(rate.Inf, 0)) },
		"Spacing":     func() Limiter { return Must(NewSpacing(time.Nanosecond)) },
		"All":         func() Limiter { return All(Must(NewConcurrency(5)), Must(NewRate(1000, 5))) },
		"AllEmpty":    func() Limiter { return All() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := l()
			holdUntil(t, l, time.Second)
			acquire(t, l, t0, 1, 0, time.Second)
			acquire(t, l, t0.Add(ms(400)), 0, 0, ms(600)) // max 0 reports the hold too
			holdUntil(t, l, 2*time.Second)                // extends
			acquire(t, l, t0.Add(time.Second), 1, 0, time.Second)
			holdUntil(t, l, ms(1500)) // does not shorten
			holdUntil(t, l, -time.Hour)
			acquire(t, l, t0.Add(time.Second), 1, 0, time.Second)
			acquire(t, l, t0.Add(2*time.Second), 1, 1, 0) // the hold has ended
			wantErr(t, "Done", l.Done(ctx, t0.Add(2*time.Second)), nil)

			holdUntil(t, l, time.Hour)
			reset(t, l)
			acquire(t, l, t0.Add(3*time.Second), 1, 1, 0)
			wantErr(t, "Release", l.Release(ctx, t0.Add(3*time.Second), 1), nil)
			reset(t, l) // resetting a limiter that is not held is fine
			acquire(t, l, t0.Add(3*time.Second), 1, 1, 0)
		})
	}
}

// TestHoldConcurrent: while held, concurrent acquirers are admitted
// nothing, and concurrent holds leave the latest end in force.
func TestHoldConcurrent(t *testing.T) {
	t.Parallel()
	for name, l := range map[string]func() Limiter{
		"Concurrency": func() Limiter { return Must(NewConcurrency(5)) },
		"Rate":        func() Limiter { return Must(NewRate(1000, 5)) },
		"Spacing":     func() Limiter { return Must(NewSpacing(time.Nanosecond)) },
		"All":         func() Limiter { return All(Must(NewConcurrency(5)), Must(NewSpacing(time.Nanosecond))) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := l()
			holdUntil(t, l, time.Minute)
			const goroutines, calls = 8, 200
			until := func(g, i int) time.Duration { return time.Minute + ms(i*goroutines+g) }
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					if g%2 == 0 { // holds in a random order
						for _, i := range rand.New(rand.NewPCG(uint64(g), 3)).Perm(calls) {
							if err := l.Hold(ctx, t0.Add(until(g, i))); err != nil {
								t.Error(err)
								return
							}
						}
						return
					}
					for i := range calls {
						at := t0.Add(ms(i))
						if n, wait, err := l.Acquire(ctx, at, 3); err != nil || n != 0 || wait < time.Minute-ms(i) {
							t.Errorf("Acquire at t0+%v while held = %d, %v, %v; want 0, the rest of the hold", ms(i), n, wait, err)
							return
						}
					}
				})
			}
			latest := until(goroutines-2, calls-1)
			wg.Wait()
			acquire(t, l, t0, 1, 0, latest)
			acquire(t, l, t0.Add(latest), 1, 1, 0)
		})
	}
}

func TestConcurrencyHoldLetsRunningJobsEnd(t *testing.T) {
	t.Parallel()
	c := Must(NewConcurrency(2))
	acquire(t, c, t0, 2, 2, 0)
	holdUntil(t, c, time.Second)
	wantErr(t, "Done while held", c.Done(ctx, t0), nil)
	wantErr(t, "Release while held", c.Release(ctx, t0, 1), nil)
	if got := c.InUse(); got != 0 {
		t.Fatalf("InUse() = %d, want 0: running jobs end while held", got)
	}
	acquire(t, c, t0, 2, 0, time.Second)
	acquire(t, c, t0.Add(time.Second), 2, 2, 0)
	// Reset ends the hold but keeps the admissions in use.
	holdUntil(t, c, time.Hour)
	reset(t, c)
	if got := c.InUse(); got != 2 {
		t.Fatalf("InUse() after Reset = %d, want 2", got)
	}
	acquire(t, c, t0.Add(time.Second), 1, 0, 0) // still full
	wantErr(t, "Done after Reset", c.Done(ctx, t0), nil)
	acquire(t, c, t0.Add(time.Second), 1, 1, 0)
}

func TestRateHold(t *testing.T) {
	t.Parallel()
	r := Must(NewRate(10, 2)) // a token every 100ms
	acquire(t, r, t0, 2, 2, 0)
	holdUntil(t, r, time.Second)
	// The token would come at 100ms; the hold lasts longer.
	acquire(t, r, t0.Add(ms(50)), 1, 0, ms(950))
	// The bucket fills while held: the burst is there when the hold ends.
	if got := r.TokensAt(t0.Add(time.Second)); got != 2 {
		t.Fatalf("TokensAt the end of the hold = %v, want 2", got)
	}
	acquire(t, r, t0.Add(time.Second), 5, 2, 0)
	// A hold shorter than the wait for a token: the token's wait counts.
	holdUntil(t, r, time.Second+ms(30))
	acquire(t, r, t0.Add(time.Second), 1, 0, ms(100))
	acquire(t, r, t0.Add(time.Second+ms(100)), 1, 1, 0)
}

func TestRateReset(t *testing.T) {
	t.Parallel()
	r := Must(NewRate(1, 3))
	acquire(t, r, t0, 3, 3, 0)
	holdUntil(t, r, time.Hour)
	reset(t, r)
	if got := r.TokensAt(t0); got != 3 {
		t.Fatalf("TokensAt after Reset = %v, want the burst 3", got)
	}
	// The three admissions from before the Reset are still held: giving
	// them back is no over-release, and adds nothing past the burst.
	wantErr(t, "Release after Reset", r.Release(ctx, t0, 3), nil)
	if got := r.TokensAt(t0); got != 3 {
		t.Fatalf("TokensAt after Release = %v, want 3", got)
	}
	acquire(t, r, t0, 5, 3, 0)
	acquire(t, r, t0, 5, 0, time.Second)
	wantErr(t, "Release beyond what is held", r.Release(ctx, t0, 4), ErrOverRelease)
}

func TestRateZeroHold(t *testing.T) {
	t.Parallel()
	r := Must(NewRate(0, 1))
	acquire(t, r, t0, 1, 1, 0)
	holdUntil(t, r, time.Second)
	acquire(t, r, t0, 1, 0, rate.InfDuration) // no token will ever come
	reset(t, r)                               // but Reset fills the bucket
	acquire(t, r, t0, 1, 1, 0)
}

func TestSpacingHold(t *testing.T) {
	t.Parallel()
	s := Must(NewSpacing(time.Second))
	acquire(t, s, t0, 1, 1, 0)
	holdUntil(t, s, ms(300))
	acquire(t, s, t0.Add(ms(100)), 1, 0, ms(900)) // the interval lasts longer
	holdUntil(t, s, 3*time.Second)
	acquire(t, s, t0.Add(time.Second), 1, 0, 2*time.Second) // the hold lasts longer
	acquire(t, s, t0.Add(3*time.Second), 1, 1, 0)
}

func TestSpacingReset(t *testing.T) {
	t.Parallel()
	s := Must(NewSpacing(time.Second))
	acquire(t, s, t0, 1, 1, 0)
	acquire(t, s, t0.Add(ms(10)), 1, 0, ms(990))
	holdUntil(t, s, time.Hour)
	reset(t, s)
	// The last start is forgotten: the next start is admitted at once.
	acquire(t, s, t0.Add(ms(10)), 1, 1, 0)
	reset(t, s)
	// The start acquired before the Reset is still held; giving it back
	// restores no start time, so the one after the Reset stays forgotten.
	wantErr(t, "Release", s.Release(ctx, t0.Add(ms(10)), 1), nil)
	acquire(t, s, t0.Add(ms(10)), 1, 1, 0)
	acquire(t, s, t0.Add(ms(20)), 1, 0, ms(990))
	wantErr(t, "Release beyond what is held", s.Release(ctx, t0, 3), ErrOverRelease)
}

func TestAllHoldReachesEveryLimiter(t *testing.T) {
	t.Parallel()
	c := Must(NewConcurrency(2))
	s := Must(NewSpacing(time.Second))
	f := &fake{}
	a := All(c, s, f)
	acquire(t, a, t0, 1, 1, 0)
	holdUntil(t, a, ms(100))
	// The members are held on their own too.
	acquire(t, c, t0.Add(ms(50)), 1, 0, ms(50))
	f.mu.Lock()
	holds := f.holds
	f.mu.Unlock()
	if len(holds) != 1 || !holds[0].Equal(t0.Add(ms(100))) {
		t.Fatalf("the fake member was held %v, want once until t0+100ms", holds)
	}
	// Held, the composite still collects the members' waits.
	acquire(t, a, t0.Add(ms(50)), 1, 0, ms(950))
	if got := f.heldNow(); got != 1 {
		t.Fatalf("fake member holds %d admissions, want 1: none while held", got)
	}
	// A Reset of a member alone leaves the composite held.
	holdUntil(t, a, time.Hour)
	reset(t, c)
	acquire(t, a, t0.Add(2*time.Second), 1, 0, time.Hour-2*time.Second)
	// A Reset of the composite resets every member.
	reset(t, a)
	f.mu.Lock()
	resets := f.resets
	f.mu.Unlock()
	if resets != 1 {
		t.Fatalf("the fake member was reset %d times, want 1", resets)
	}
	acquire(t, a, t0.Add(ms(50)), 2, 1, 0) // the spacing forgot its last start
}

func TestAllHoldErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	c := Must(NewConcurrency(2))
	a := All(&fake{err: boom}, c)
	wantErr(t, "Hold", a.Hold(ctx, t0.Add(time.Second)), boom)
	// The other members were held all the same.
	acquire(t, c, t0, 1, 0, time.Second)
	wantErr(t, "Reset", a.Reset(ctx), boom)
	acquire(t, c, t0, 1, 1, 0)
}
