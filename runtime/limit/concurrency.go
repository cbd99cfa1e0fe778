package limit

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Concurrency admits at most a fixed number of jobs at once: a job holds
// its admission from Acquire until Release or Done gives it back.
//
// The zero value admits nothing; create one with [NewConcurrency]. A
// Concurrency is safe for concurrent use; it takes no lock.
type Concurrency struct {
	limit int64
	used  atomic.Int64 // admissions held: acquired and not yet released or done
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

// Acquire admits min(max, free) jobs. It never waits for time: when c is
// full, wait is 0, meaning "when a running job ends".
func (c *Concurrency) Acquire(_ time.Time, max int) (int, time.Duration, error) {
	if max < 0 {
		return 0, 0, ErrNegativeCount
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
func (c *Concurrency) Release(_ time.Time, n int) error {
	if n < 0 {
		return ErrNegativeCount
	}
	return c.put(int64(n))
}

// Done gives back the admission of a job that has ended.
func (c *Concurrency) Done(time.Time) error { return c.put(1) }

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
