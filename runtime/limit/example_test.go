package limit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jobgen/jobgen/runtime/limit"
)

// A fetch loop admits at most 2 jobs at once and 1 start a second, with
// bursts of 3. Times are passed in, so the example runs without waiting.
func ExampleAll() {
	l := limit.All(
		limit.Must(limit.NewConcurrency(2)),
		limit.Must(limit.NewRate(1, 3)),
	)
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	n, wait, _ := l.Acquire(ctx, start, 10)
	fmt.Println("admitted", n, "wait", wait) // concurrency allows 2
	n, wait, _ = l.Acquire(ctx, start, 10)
	fmt.Println("admitted", n, "wait", wait) // full: wait for a job to end

	l.Done(ctx, start) // a job ended
	n, wait, _ = l.Acquire(ctx, start, 10)
	fmt.Println("admitted", n, "wait", wait) // the burst's last token
	l.Release(ctx, start, n)                 // the claim found no job: give it back

	l.Done(ctx, start)
	n, _, _ = l.Acquire(ctx, start, 10)
	fmt.Println("admitted", n) // one free slot, one token
	n, wait, _ = l.Acquire(ctx, start, 10)
	fmt.Println("admitted", n, "wait", wait) // a slot is free, but no token for a second
	// Output:
	// admitted 2 wait 0s
	// admitted 0 wait 0s
	// admitted 1 wait 0s
	// admitted 1
	// admitted 0 wait 1s
}

// A Spacing admits one start at a time, at least the interval apart.
func ExampleSpacing() {
	s := limit.Must(limit.NewSpacing(200 * time.Millisecond))
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, at := range []time.Duration{0, 50 * time.Millisecond, 200 * time.Millisecond} {
		n, wait, _ := s.Acquire(ctx, start.Add(at), 5)
		fmt.Printf("at %v: admitted %d, wait %v\n", at, n, wait)
	}
	// Output:
	// at 0s: admitted 1, wait 0s
	// at 50ms: admitted 0, wait 150ms
	// at 200ms: admitted 1, wait 0s
}

// A Rate gives back tokens a claim did not use.
func ExampleRate_Release() {
	r := limit.Must(limit.NewRate(10, 4)) // a token every 100ms, bursts of 4
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n, _, _ := r.Acquire(ctx, now, 4)
	claimed := 1 // the queue held only one job
	r.Release(ctx, now, n-claimed)
	fmt.Println(r.TokensAt(now))
	// Output: 3
}

// A service the jobs call asked for a pause: the limiter is held, admits
// nothing until the hold ends, and admits again when it is reset.
func ExampleRate_Hold() {
	r := limit.Must(limit.NewRate(1, 2))
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	r.Hold(ctx, now.Add(time.Minute))
	r.Hold(ctx, now.Add(time.Second)) // an earlier hold does not shorten it
	n, wait, _ := r.Acquire(ctx, now, 2)
	fmt.Println("held: admitted", n, "wait", wait)
	n, _, _ = r.Acquire(ctx, now.Add(time.Minute), 2)
	fmt.Println("after the hold: admitted", n)

	r.Hold(ctx, now.Add(time.Hour))
	r.Reset(ctx) // ends the hold and fills the bucket
	n, _, _ = r.Acquire(ctx, now.Add(time.Minute), 2)
	fmt.Println("after Reset: admitted", n)
	// Output:
	// held: admitted 0 wait 1m0s
	// after the hold: admitted 2
	// after Reset: admitted 2
}
