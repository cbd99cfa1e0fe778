package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	// Two limiters on one key stand for two processes.
	a, err := s.RateLimiter("media", 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.RateLimiter("media", 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Now()
	if n, _, err := a.Acquire(ctx, now, 3); err != nil || n != 3 {
		t.Fatalf("first Acquire(3) = %d, %v; want 3 from a full bucket", n, err)
	}
	if n, _, err := b.Acquire(ctx, now, 10); err != nil || n != 2 {
		t.Fatalf("Acquire(10) on the other limiter = %d, %v; want the 2 left", n, err)
	}
	n, wait, err := a.Acquire(ctx, now, 10)
	if err != nil || n != 0 {
		t.Fatalf("Acquire on an empty bucket = %d, %v; want 0", n, err)
	}
	if wait <= 0 || wait > time.Second/2 {
		t.Errorf("wait on an empty bucket %v, want in (0, 500ms] at 2 per second", wait)
	}
	if err := b.Release(ctx, now, 2); err != nil {
		t.Fatal(err)
	}
	if n, _, err := a.Acquire(ctx, now, 10); err != nil || n != 2 {
		t.Fatalf("Acquire after Release(2) = %d, %v; want 2", n, err)
	}
	// Another key is another bucket.
	if c, err := s.RateLimiter("mail", 1, 1); err != nil {
		t.Fatal(err)
	} else if n, _, err := c.Acquire(ctx, now, 5); err != nil || n != 1 {
		t.Fatalf("Acquire on another key = %d, %v; want 1", n, err)
	}
	if _, err := s.RateLimiter("x", 0, 1); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("rate 0: %v, want storage.ErrInvalid", err)
	}
}

// TestRateLimiterConcurrent: concurrent acquirers never take more than the
// bucket holds plus what refills meanwhile.
func TestRateLimiterConcurrent(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	const rate, burst = 10.0, 20
	ctx := t.Context()
	start := time.Now()
	var (
		mu    sync.Mutex
		total int
		wg    sync.WaitGroup
	)
	for range 6 {
		l, err := s.RateLimiter("shared", rate, burst)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for range 20 {
				n, _, err := l.Acquire(ctx, time.Now(), 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed := burst + int(time.Since(start).Seconds()*rate) + 1; total > allowed {
		t.Errorf("admitted %d in %v, more than burst %d + rate %v/s allows (%d)", total, time.Since(start), burst, rate, allowed)
	}
	if total < burst {
		t.Errorf("admitted %d, want at least the burst %d", total, burst)
	}
}

// sameSchema returns a second store on s's schema through a pool of its
// own, as another process would open it.
func sameSchema(t *testing.T, s *Store) *Store {
	t.Helper()
	pool, err := openPool(testDSN(t), 4)
	if err != nil {
		unreachable(t, err)
	}
	t.Cleanup(pool.Close)
	other, err := New(pool, &Options{Schema: s.n.schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	return other
}

// acquireWait calls l.Acquire for up to most and fails the test unless it
// admits none with a wait of at least least and at most most.
func acquireWait(t *testing.T, l *RateLimiter, least, most time.Duration) {
	t.Helper()
	n, wait, err := l.Acquire(t.Context(), time.Now(), 3)
	if err != nil || n != 0 || wait < least || wait > most {
		t.Fatalf("Acquire = %d, %v, %v; want 0 and a wait in [%v, %v]", n, wait, err, least, most)
	}
}

// TestRateLimiterHold: a hold stored in the bucket's row holds every
// store on the schema; a later hold extends it, an earlier one does not
// shorten it, and a Reset from any store ends it and fills the bucket.
func TestRateLimiterHold(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	a, err := s.RateLimiter("api", 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sameSchema(t, s).RateLimiter("api", 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Now()
	// A hold before the bucket's first use creates it, full and held.
	if err := a.Hold(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	acquireWait(t, b, time.Hour-time.Minute, time.Hour)
	if err := b.Hold(ctx, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	acquireWait(t, a, 2*time.Hour-time.Minute, 2*time.Hour)
	if err := a.Hold(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	acquireWait(t, b, 2*time.Hour-time.Minute, 2*time.Hour)
	// Another key is not held.
	if c, err := s.RateLimiter("mail", 1, 1); err != nil {
		t.Fatal(err)
	} else if n, _, err := c.Acquire(ctx, now, 1); err != nil || n != 1 {
		t.Fatalf("Acquire on another key = %d, %v; want 1", n, err)
	}
	// The bucket was full all along; Reset ends the hold everywhere.
	if err := b.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, err := a.Acquire(ctx, now, 10); err != nil || n != 3 {
		t.Fatalf("Acquire after Reset = %d, %v; want the burst 3", n, err)
	}
	acquireWait(t, b, time.Millisecond, time.Second)
	// Reset also fills the bucket; a hold that has ended holds nothing.
	if err := a.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Hold(ctx, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, _, err := b.Acquire(ctx, now, 10); err != nil || n != 3 {
		t.Fatalf("Acquire after a Reset and a past hold = %d, %v; want 3", n, err)
	}
	// The caller's context bounds every round trip.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := a.Acquire(cctx, now, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with a cancelled context: %v, want context.Canceled", err)
	}
	for name, err := range map[string]error{
		"Release": a.Release(cctx, now, 1),
		"Hold":    a.Hold(cctx, now.Add(time.Hour)),
		"Reset":   a.Reset(cctx),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
		}
	}
}

// TestRateLimiterHoldConcurrent: while held, concurrent acquirers on two
// stores take nothing, and concurrent holds leave the latest in force.
func TestRateLimiterHoldConcurrent(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	stores := []*Store{s, sameSchema(t, s)}
	ctx := t.Context()
	now := time.Now()
	first, err := s.RateLimiter("held", 100, 50)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Hold(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	until := func(g, i int) time.Time { return now.Add(time.Hour + time.Duration(i*8+g)*time.Second) }
	var wg sync.WaitGroup
	for g := range 8 {
		l, err := stores[g%2].RateLimiter("held", 100, 50)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := range 10 {
				if g < 4 {
					if err := l.Hold(ctx, until(g, i)); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				if n, wait, err := l.Acquire(ctx, time.Now(), 5); err != nil || n != 0 || wait < time.Hour-time.Minute {
					t.Errorf("Acquire while held = %d, %v, %v; want 0 and the rest of the hold", n, wait, err)
					return
				}
			}
		})
	}
	wg.Wait()
	latest := until(3, 9).Sub(now)
	acquireWait(t, first, latest-time.Minute, latest)
}

// TestRateLimiterServer: a server whose queue is limited by a RateLimiter
// starts jobs no faster than the rate allows.
func TestRateLimiterServer(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	const (
		rate  = 20.0
		burst = 5
		jobs  = 15
	)
	rl, err := s.RateLimiter("chaos", rate, burst)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := runtime.NewServer(s, runtime.Config{
		Queues:       map[string]runtime.QueueConfig{"chaos": {MaxWorkers: 10, Limiter: rl}},
		PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		starts []time.Time
	)
	err = chaosKind.Register(srv, func(ctx context.Context, job *runtime.Job[chaosIn]) (runtime.NoOutput, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return runtime.NoOutput{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(sctx); err != nil {
			t.Error(err)
		}
	}()
	begin := time.Now()
	handles := make([]*runtime.Handle[runtime.NoOutput], jobs)
	for i := range handles {
		if handles[i], err = chaosKind.Submit(ctx, srv.Client(), chaosIn{N: i}, nil); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for _, h := range handles {
		if _, err := h.Wait(wctx); err != nil {
			t.Fatal(err)
		}
	}
	// The burst starts at once; the rest wait for tokens.
	if least := time.Duration(float64(jobs-burst-1) / rate * float64(time.Second)); time.Since(begin) < least {
		t.Errorf("%d jobs ran in %v; a rate of %v/s with burst %d needs at least %v", jobs, time.Since(begin), rate, burst, least)
	}
}
