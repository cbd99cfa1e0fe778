package limit

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stress runs goroutines that each act like a fetch loop and its jobs:
// acquire, claim part of it, release the rest, run, and report each end.
// It fails if more than limit jobs ever run at once, or if at the end an
// Acquire does not admit full (every admission was given back).
func stress(t *testing.T, l Limiter, limit, full int) {
	const goroutines, iterations = 8, 3000
	var (
		clock   atomic.Int64 // nanoseconds since t0
		running atomic.Int64
		peak    atomic.Int64
		started atomic.Int64
		wg      sync.WaitGroup
	)
	now := func() time.Time { return t0.Add(time.Duration(clock.Add(int64(time.Microsecond)))) }
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range iterations {
				n, _, err := l.Acquire(ctx, now(), 1+rng.IntN(limit+1))
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					runtime.Gosched()
					continue
				}
				claimed := rng.IntN(n + 1)
				if err := l.Release(ctx, now(), n-claimed); err != nil {
					t.Error(err)
					return
				}
				cur := running.Add(int64(claimed))
				for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
				}
				started.Add(int64(claimed))
				runtime.Gosched()
				for range claimed {
					// The job is gone before its admission is given back.
					running.Add(-1)
					if err := l.Done(ctx, now()); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > int64(limit) {
		t.Fatalf("%d jobs ran at once, limit %d", p, limit)
	}
	if started.Load() == 0 {
		t.Fatal("no job started")
	}
	// Everything was given back: the full limit is free again.
	end := t0.Add(time.Hour)
	acquire(t, l, end, 100, full, 0)
	if err := l.Release(ctx, end, full); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d jobs, at most %d at once", started.Load(), peak.Load())
}

func TestStressConcurrency(t *testing.T) {
	t.Parallel()
	c := Must(NewConcurrency(3))
	stress(t, c, 3, 3)
	if got := c.InUse(); got != 0 {
		t.Fatalf("InUse() = %d at the end, want 0", got)
	}
}

func TestStressAll(t *testing.T) {
	t.Parallel()
	c := Must(NewConcurrency(3))
	r := Must(NewRate(200_000, 5)) // a token every 5µs of the fake clock
	stress(t, All(c, r), 3, 3)
	if c.InUse() != 0 || r.held != 0 {
		t.Fatalf("at the end: concurrency holds %d, rate %d; want 0", c.InUse(), r.held)
	}
}

func TestStressAllRateFirst(t *testing.T) {
	t.Parallel()
	c := Must(NewConcurrency(3))
	r := Must(NewRate(200_000, 5))
	s := Must(NewSpacing(time.Microsecond))
	stress(t, All(r, s, c), 3, 1) // spacing admits one start per call
	if c.InUse() != 0 || r.held != 0 || s.held != 0 {
		t.Fatalf("at the end: concurrency holds %d, rate %d, spacing %d; want 0", c.InUse(), r.held, s.held)
	}
}
