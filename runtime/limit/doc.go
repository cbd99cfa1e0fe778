// Package limit holds the local admission limiters a jobgen server consults
// before it starts jobs: [Concurrency] (at most n jobs at once), [Rate] (a
// token bucket with golang.org/x/time/rate semantics), [Spacing] (a minimum
// time between starts) and [All], which admits only what every one of
// several limiters admits.
//
// A [Limiter] is driven by the caller's clock: every method that admits or
// gives back takes the current time, so tests pass times explicitly and
// never sleep. Every method takes a context first, which bounds the I/O of
// a limiter kept in storage; the limiters here never block and ignore it.
// They keep their state in the process; a limit shared by many processes
// belongs in storage instead.
//
// A server's fetch loop uses a limiter like this:
//
//	n, wait, err := l.Acquire(ctx, time.Now(), freeSlots)
//	if n == 0 {
//		// sleep wait, or until a running job ends when wait is 0
//	}
//	claimed := claim(n)
//	l.Release(ctx, time.Now(), n-len(claimed)) // admissions the claim did not use
//	// ... and when each claimed job ends, however it ends:
//	l.Done(ctx, time.Now())
//
// Hold pauses admissions until a time, for example when a service the
// jobs call answers "too many requests, retry in a minute"; a later hold
// extends the pause, an earlier one does not shorten it. Reset ends the
// pause and starts the limiter afresh:
//
//	l.Hold(ctx, time.Now().Add(time.Minute)) // Acquire admits none for a minute
//	l.Reset(ctx)                             // admit again, with a full bucket
//
// Limiters are built with constructors that validate their arguments and
// return an error; [Must] turns such an error into a panic for limiters
// built from constants:
//
//	l := limit.All(
//		limit.Must(limit.NewConcurrency(4)),
//		limit.Must(limit.NewRate(10, 5)), // 10 starts a second, bursts of 5
//	)
package limit
