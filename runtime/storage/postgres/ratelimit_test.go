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
	now := time.Now()
	if n, _, err := a.Acquire(now, 3); err != nil || n != 3 {
		t.Fatalf("first Acquire(3) = %d, %v; want 3 from a full bucket", n, err)
	}
	if n, _, err := b.Acquire(now, 10); err != nil || n != 2 {
		t.Fatalf("Acquire(10) on the other limiter = %d, %v; want the 2 left", n, err)
	}
	n, wait, err := a.Acquire(now, 10)
	if err != nil || n != 0 {
		t.Fatalf("Acquire on an empty bucket = %d, %v; want 0", n, err)
	}
	if wait <= 0 || wait > time.Second/2 {
		t.Errorf("wait on an empty bucket %v, want in (0, 500ms] at 2 per second", wait)
	}
	if err := b.Release(now, 2); err != nil {
		t.Fatal(err)
	}
	if n, _, err := a.Acquire(now, 10); err != nil || n != 2 {
		t.Fatalf("Acquire after Release(2) = %d, %v; want 2", n, err)
	}
	// Another key is another bucket.
	if c, err := s.RateLimiter("mail", 1, 1); err != nil {
		t.Fatal(err)
	} else if n, _, err := c.Acquire(now, 5); err != nil || n != 1 {
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
				n, _, err := l.Acquire(time.Now(), 3)
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
