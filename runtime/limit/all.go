package limit

import (
	"context"
	"errors"
	"time"
)

// All returns a limiter that admits only what every one of limiters
// admits, for example at most 4 jobs at once and at most 10 starts a
// second. Nil entries are ignored; with none left, it admits everything.
//
// Acquire asks the limiters in order, each for at most what the ones
// before it admitted, and gives the surplus back to the earlier ones when
// a later one admits fewer; put the limiter most likely to refuse first.
// When it admits none, wait is the longest wait of the limiters. Release
// and Done go to every limiter. If any limiter fails, Acquire gives back
// everything it took and admits none; all errors are joined. Every
// limiter's accounting stays whole either way.
//
// Hold and Reset go to every limiter, so a hold through the composite
// holds each of them wherever else it is used, and a reset resets each.
// The composite also keeps a hold of its own, so that one of no limiters
// can be held too: Reset ends it, a Reset of a member alone does not.
//
// The result is safe for concurrent use if the limiters are. A limiter may
// be part of several composites and used on its own at the same time.
func All(limiters ...Limiter) Limiter {
	a := &all{ls: make([]Limiter, 0, len(limiters))}
	for _, l := range limiters {
		if l != nil {
			a.ls = append(a.ls, l)
		}
	}
	return a
}

// all is the composite built by All. Its only state is its hold.
type all struct {
	ls   []Limiter
	hold hold
}

// Acquire implements Limiter.
func (a *all) Acquire(ctx context.Context, now time.Time, max int) (int, time.Duration, error) {
	ls := a.ls
	if max < 0 {
		return 0, 0, ErrNegativeCount
	}
	var (
		errs []error
		wait = a.hold.wait(now)
		n    = max // the running minimum: every limiter before i holds n
	)
	if wait > 0 {
		n = 0 // held: only collect the limiters' waits
	}
	for i, l := range ls {
		got, w, err := l.Acquire(ctx, now, n)
		if err != nil {
			errs = append(errs, err)
		}
		wait = maxDuration(wait, w)
		if got < 0 { // a broken limiter: treat as admitting none
			got = 0
		}
		if got > n { // a limiter that admits more than it was asked for
			errs = appendErr(errs, l.Release(ctx, now, got-n))
			got = n
		}
		if got < n {
			for _, e := range ls[:i] {
				errs = appendErr(errs, e.Release(ctx, now, n-got))
			}
			n = got
		}
		// Asking the rest with n == 0 still collects their waits.
	}
	if errs != nil {
		if n > 0 {
			for _, l := range ls {
				errs = appendErr(errs, l.Release(ctx, now, n))
			}
		}
		return 0, wait, errors.Join(errs...)
	}
	if n > 0 {
		wait = 0
	}
	return n, wait, nil
}

// Release implements Limiter.
func (a *all) Release(ctx context.Context, now time.Time, n int) error {
	if n < 0 {
		return ErrNegativeCount
	}
	var errs []error
	for _, l := range a.ls {
		errs = appendErr(errs, l.Release(ctx, now, n))
	}
	return errors.Join(errs...)
}

// Done implements Limiter.
func (a *all) Done(ctx context.Context, now time.Time) error {
	var errs []error
	for _, l := range a.ls {
		errs = appendErr(errs, l.Done(ctx, now))
	}
	return errors.Join(errs...)
}

// Hold implements Limiter.
func (a *all) Hold(ctx context.Context, until time.Time) error {
	a.hold.extend(until)
	var errs []error
	for _, l := range a.ls {
		errs = appendErr(errs, l.Hold(ctx, until))
	}
	return errors.Join(errs...)
}

// Reset implements Limiter.
func (a *all) Reset(ctx context.Context) error {
	a.hold.clear()
	var errs []error
	for _, l := range a.ls {
		errs = appendErr(errs, l.Reset(ctx))
	}
	return errors.Join(errs...)
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}

func maxDuration(a, b time.Duration) time.Duration {
	if b > a {
		return b
	}
	return a
}
