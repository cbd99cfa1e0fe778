package limit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Concurrency admits at most a fixed number of jobs at once: a job holds
// its admission from Acquire until Release or Done gives it back. A hold
// stops new admissions; the jobs running still end and give theirs back.
// Its only other state is the admissions in use, so Reset just ends the
// hold.
//
// The zero value admits nothing; create one with [NewConcurrency]. A
// Concurrency is safe for concurrent use; it takes no lock.
type Concurrency struct {
	limit int64
	used  atomic.Int64 // admissions held: acquired and not yet released or done
	hold  hold         // set by Hold, ended by Reset
}

var _ Limiter = (*Concurrency)(nil)

// NewConcurrency returns a limiter that admits at most n jobs at once.
// n must be at least 1.
func NewConcurrency(n int) (*Concurrency, error) {
	if n < 1 {
		return nil, fmt.Errorf("limit: concurrency must be at least 1, got %d", n)
	}
	return &Concurrency{limit: int64(n)}, nil
}

// Limit returns the most jobs c admits at once.
func (c *Concurrency) Limit() int { return int(c.limit) }

// InUse returns how many admissions are held now.
func (c *Concurrency) InUse() int { return int(c.used.Load()) }

// Acquire admits min(max, free) jobs unless c is held. Apart from a hold
// it never waits for time: when c is full, wait is 0, meaning "when a
// running job ends".
func (c *Concurrency) Acquire(_ context.Context, now time.Time, max int) (int, time.Duration, error) {
	if max < 0 {
		return 0, 0, ErrNegativeCount
	}
	if w := c.hold.wait(now); w > 0 {
		return 0, w, nil
	}
	for {
		used := c.used.Load()
		n := min(int64(max), c.limit-used)
		if n <= 0 {
			return 0, 0, nil
		}
		if c.used.CompareAndSwap(used, used+n) {
			return int(n), 0, nil
		}
	}
}

// Release gives back n admissions that were not used.
func (c *Concurrency) Release(_ context.Context, _ time.Time, n int) error {
	if n < 0 {
		return ErrNegativeCount
	}
	return c.put(int64(n))
}

// Done gives back the admission of a job that has ended.
func (c *Concurrency) Done(context.Context, time.Time) error { return c.put(1) }

// Hold admits no new job before until; running jobs are not affected.
func (c *Concurrency) Hold(_ context.Context, until time.Time) error {
	c.hold.extend(until)
	return nil
}

// Reset ends the hold. Admissions in use stay in use: they belong to
// running jobs.
func (c *Concurrency) Reset(context.Context) error {
	c.hold.clear()
	return nil
}

// put gives back n admissions, never more than are held.
func (c *Concurrency) put(n int64) error {
	if n == 0 {
		return nil
	}
	for {
		used := c.used.Load()
		k := min(n, used)
		if c.used.CompareAndSwap(used, used-k) {
			if k < n {
				return ErrOverRelease
			}
			return nil
		}
	}
}
