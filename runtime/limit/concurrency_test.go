package limit

import "testing"

func TestNewConcurrencyRejects(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, -1} {
		if c, err := NewConcurrency(n); err == nil || c != nil {
			t.Errorf("NewConcurrency(%d) = %v, %v; want an error", n, c, err)
		}
	}
}

func TestConcurrencyGrants(t *testing.T) {
	t.Parallel()
	c := Must(NewConcurrency(3))
	acquire(t, c, t0, 2, 2, 0)
	acquire(t, c, t0, 5, 1, 0) // only one free
	acquire(t, c, t0, 5, 0, 0) // full: wait for a job to end
	acquire(t, c, t0, 0, 0, 0)
	wantErr(t, "Done", c.Done(ctx, t0), nil)
	acquire(t, c, t0, 5, 1, 0)
	wantErr(t, "Release", c.Release(ctx, t0, 2), nil)
	acquire(t, c, t0, 5, 2, 0)
	if got := c.InUse(); got != 3 {
		t.Fatalf("InUse() = %d, want 3", got)
	}
}

func TestConcurrencyOverRelease(t *testing.T) {
	t.Parallel()
	c := Must(NewConcurrency(3))
	acquire(t, c, t0, 1, 1, 0)
	wantErr(t, "Release(2) holding 1", c.Release(ctx, t0, 2), ErrOverRelease)
	wantErr(t, "Done holding 0", c.Done(ctx, t0), ErrOverRelease)
	wantErr(t, "Release(-1)", c.Release(ctx, t0, -1), ErrNegativeCount)
	if _, _, err := c.Acquire(ctx, t0, -1); err != ErrNegativeCount {
		t.Fatalf("Acquire(-1): err = %v, want ErrNegativeCount", err)
	}
	// The surplus did not raise the limit.
	acquire(t, c, t0, 10, 3, 0)
	acquire(t, c, t0, 10, 0, 0)
}

func TestConcurrencyZeroValue(t *testing.T) {
	t.Parallel()
	var c Concurrency
	acquire(t, &c, t0, 1, 0, 0)
	wantErr(t, "Done", c.Done(ctx, t0), ErrOverRelease)
}
