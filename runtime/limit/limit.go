package limit

import (
	"context"
	"errors"
	"time"
)

// Limiter admits job starts. The fetch loop asks it for up to max
// admissions before each claim, gives back the ones the claim did not use,
// and reports every admitted job's end. Admission is atomic: concurrent
// callers are never admitted past the limit together.
//
// Every admission a caller holds ends exactly once, either by Release (it
// was not used) or by Done (the job it admitted has ended). Calls beyond
// what was acquired return [ErrOverRelease] and change nothing that is
// not owed, so a caller's bug cannot loosen the limit.
//
// Hold stops admissions until a time, for example when a service the jobs
// call has asked for a pause, and Reset clears the hold and starts the
// limiter afresh. Neither touches admissions already made: those still
// end by Release or Done.
//
// ctx bounds the I/O of a limiter whose state lives elsewhere, such as a
// database; the local limiters of this package never block and ignore it.
// now is the caller's clock, so tests pass times explicitly.
//
// Implementations are safe for concurrent use by several fetch loops and
// job goroutines.
type Limiter interface {
	// Acquire admits up to max job starts at now and returns how many it
	// admitted. When it admits none, wait is how long until one may be
	// admitted; zero means "when a running job ends" (or now, if max was
	// zero and the limiter would admit). With max == 0 Acquire admits
	// nothing and only reports wait. While a hold lasts, Acquire admits
	// none and wait is at least the time until the hold ends. When err is
	// non-nil, n is 0.
	Acquire(ctx context.Context, now time.Time, max int) (n int, wait time.Duration, err error)
	// Release gives back n admissions that were not used.
	Release(ctx context.Context, now time.Time, n int) error
	// Done reports that one admitted job has ended, however it ended.
	Done(ctx context.Context, now time.Time) error
	// Hold admits nothing before until. A hold only extends: a Hold until
	// a later time replaces the current one, a Hold until an earlier time
	// (or one already past) changes nothing; only Reset shortens a hold.
	Hold(ctx context.Context, until time.Time) error
	// Reset ends any hold and returns the limiter to the state it was
	// created in, except that admissions still held stay held (they end by
	// Release or Done as usual). Each limiter documents what that means
	// for it.
	Reset(ctx context.Context) error
}

var (
	// ErrOverRelease is returned by Release and Done when they give back
	// more admissions than the caller holds. The surplus is ignored.
	ErrOverRelease = errors.New("limit: released more than was acquired")
	// ErrNegativeCount is returned by Acquire and Release when they are
	// passed a negative count. Nothing is acquired or released.
	ErrNegativeCount = errors.New("limit: negative count")
)

// Must returns l, and panics if err is non-nil. It is meant for limiters
// built from constants:
//
//	l := limit.Must(limit.NewConcurrency(4))
func Must[L Limiter](l L, err error) L {
	if err != nil {
		panic(err)
	}
	return l
}
