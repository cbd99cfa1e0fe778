package limit

import (
	"testing"
	"time"
)

func TestNewSpacingRejects(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second} {
		if s, err := NewSpacing(d); err == nil || s != nil {
			t.Errorf("NewSpacing(%v) = %v, %v; want an error", d, s, err)
		}
	}
}

func TestSpacingGrants(t *testing.T) {
	t.Parallel()
	s := Must(NewSpacing(ms(100)))
	acquire(t, s, t0, 5, 1, 0) // one start per call
	acquire(t, s, t0, 5, 0, ms(100))
	acquire(t, s, t0.Add(ms(30)), 1, 0, ms(70))
	acquire(t, s, t0.Add(ms(30)), 0, 0, ms(70))
	acquire(t, s, t0.Add(ms(100)), 0, 0, 0) // would admit; max 0 takes nothing
	acquire(t, s, t0.Add(ms(100)), 1, 1, 0)
	acquire(t, s, t0.Add(ms(150)), 1, 0, ms(50))
	// A job's end frees nothing.
	wantErr(t, "Done", s.Done(ctx, t0.Add(ms(150))), nil)
	acquire(t, s, t0.Add(ms(150)), 1, 0, ms(50))
}

func TestSpacingReleaseRestoresLastStart(t *testing.T) {
	t.Parallel()
	s := Must(NewSpacing(ms(100)))
	acquire(t, s, t0, 1, 1, 0)
	acquire(t, s, t0.Add(ms(150)), 1, 1, 0)
	// The start at 150ms did not happen: the next may come 100ms after
	// the one at 0, not after 150ms.
	wantErr(t, "Release", s.Release(ctx, t0.Add(ms(151)), 1), nil)
	acquire(t, s, t0.Add(ms(160)), 1, 1, 0)
	// Restoring goes one level deep: releasing this one too brings back
	// the start at 0, and a third release restores nothing older.
	wantErr(t, "Release", s.Release(ctx, t0.Add(ms(160)), 1), nil)
	wantErr(t, "Release", s.Release(ctx, t0.Add(ms(160)), 1), nil)
	acquire(t, s, t0.Add(ms(50)), 1, 0, ms(50))
}

func TestSpacingFirstReleaseAllowsImmediateStart(t *testing.T) {
	t.Parallel()
	s := Must(NewSpacing(time.Hour))
	acquire(t, s, t0, 1, 1, 0)
	wantErr(t, "Release", s.Release(ctx, t0, 1), nil)
	acquire(t, s, t0, 1, 1, 0)
}

func TestSpacingOverRelease(t *testing.T) {
	t.Parallel()
	s := Must(NewSpacing(ms(100)))
	acquire(t, s, t0, 1, 1, 0)
	wantErr(t, "Done", s.Done(ctx, t0), nil)
	// Nothing is held: the release must not undo the start at 0.
	wantErr(t, "Release(1) holding 0", s.Release(ctx, t0, 1), ErrOverRelease)
	wantErr(t, "Done holding 0", s.Done(ctx, t0), ErrOverRelease)
	wantErr(t, "Release(-1)", s.Release(ctx, t0, -1), ErrNegativeCount)
	if _, _, err := s.Acquire(ctx, t0, -1); err != ErrNegativeCount {
		t.Fatalf("Acquire(-1): err = %v, want ErrNegativeCount", err)
	}
	acquire(t, s, t0.Add(ms(50)), 1, 0, ms(50))
}

func TestSpacingZeroValue(t *testing.T) {
	t.Parallel()
	var s Spacing
	acquire(t, &s, t0, 3, 1, 0)
	acquire(t, &s, t0, 3, 1, 0)
	acquire(t, &s, t0.Add(-time.Second), 3, 1, 0)
}
