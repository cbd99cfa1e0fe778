package limit_test

import (
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
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	n, wait, _ := l.Acquire(start, 10)
	fmt.Println("admitted", n, "wait", wait) // concurrency allows 2
	n, wait, _ = l.Acquire(start, 10)
	fmt.Println("admitted", n, "wait", wait) // full: wait for a job to end

	l.Done(start) // a job ended
	n, wait, _ = l.Acquire(start, 10)
	fmt.Println("admitted", n, "wait", wait) // the burst's last token
	l.Release(start, n)                      // the claim found no job: give it back

	l.Done(start)
	n, _, _ = l.Acquire(start, 10)
	fmt.Println("admitted", n) // one free slot, one token
	n, wait, _ = l.Acquire(start, 10)
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
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, at := range []time.Duration{0, 50 * time.Millisecond, 200 * time.Millisecond} {
		n, wait, _ := s.Acquire(start.Add(at), 5)
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
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n, _, _ := r.Acquire(now, 4)
	claimed := 1 // the queue held only one job
	r.Release(now, n-claimed)
	fmt.Println(r.TokensAt(now))
	// Output: 3
}
