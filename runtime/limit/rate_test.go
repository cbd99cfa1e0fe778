package limit

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestNewRateRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r     rate.Limit
		burst int
	}{
		{-1, 1}, {rate.Limit(math.NaN()), 1}, {5, 0}, {0, 0}, {5, -1},
	} {
		if l, err := NewRate(tc.r, tc.burst); err == nil || l != nil {
			t.Errorf("NewRate(%v, %d) = %v, %v; want an error", tc.r, tc.burst, l, err)
		}
	}
	if _, err := NewRate(rate.Inf, 0); err != nil {
		t.Errorf("NewRate(Inf, 0): %v; burst is ignored at an infinite rate", err)
	}
}

func TestRateGrants(t *testing.T) {
	t.Parallel()
	r := Must(NewRate(10, 3))  // a token every 100ms
	acquire(t, r, t0, 5, 3, 0) // the burst
	acquire(t, r, t0, 1, 0, ms(100))
	acquire(t, r, t0.Add(ms(40)), 1, 0, ms(60))
	acquire(t, r, t0.Add(ms(40)), 0, 0, ms(60)) // max 0 only reports the wait
	acquire(t, r, t0.Add(ms(100)), 2, 1, 0)
	acquire(t, r, t0.Add(ms(250)), 2, 1, 0) // 1.5 tokens: one start, half a token left
	acquire(t, r, t0.Add(ms(250)), 1, 0, ms(50))
	acquire(t, r, t0.Add(ms(300)), 1, 1, 0)
	acquire(t, r, t0.Add(time.Hour), 10, 3, 0) // refilled only up to the burst
}

// TestRateMatchesXTimeRate drives a Rate and a rate.Limiter with the same
// random times and checks that the Rate admits exactly what AllowN allows
// and that its waits are exact to the nanosecond.
func TestRateMatchesXTimeRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r     rate.Limit
		burst int
	}{
		{10, 3}, {7.3, 4}, {0.5, 1}, {1000, 50}, {rate.Every(333 * time.Millisecond), 2},
	} {
		r := Must(NewRate(tc.r, tc.burst))
		want := rate.NewLimiter(tc.r, tc.burst)
		rng := rand.New(rand.NewPCG(1, 2))
		now := t0
		for step := range 2000 {
			now = now.Add(time.Duration(rng.Int64N(int64(2 * time.Second / time.Duration(tc.r+1)))))
			max := rng.IntN(tc.burst + 2)
			n, wait, err := r.Acquire(ctx, now, max)
			if err != nil {
				t.Fatal(err)
			}
			wantN := min(max, int(want.TokensAt(now)))
			if n != wantN || wantN > 0 && !want.AllowN(now, wantN) || n < max && want.AllowN(now, n+1) {
				t.Fatalf("rate %v burst %d step %d: Acquire(%d) = %d, want %d", tc.r, tc.burst, step, max, n, wantN)
			}
			if n > 0 || (max == 0 && wait == 0) {
				continue
			}
			if wait <= 0 || r.TokensAt(now.Add(wait)) < 1 || r.TokensAt(now.Add(wait-1)) >= 1 {
				t.Fatalf("rate %v burst %d step %d: wait %v is not the time to the next token: tokens %v at now, %v at +wait, %v at +wait-1ns",
					tc.r, tc.burst, step, wait, r.TokensAt(now), r.TokensAt(now.Add(wait)), r.TokensAt(now.Add(wait-1)))
			}
		}
	}
}

func TestRateReleaseRestoresTokens(t *testing.T) {
	t.Parallel()
	r := Must(NewRate(10, 3))
	acquire(t, r, t0, 3, 3, 0)
	wantErr(t, "Release", r.Release(ctx, t0, 2), nil)
	acquire(t, r, t0, 5, 2, 0) // the released tokens are there again
	acquire(t, r, t0, 5, 0, ms(100))
	// Done frees no token.
	wantErr(t, "Done", r.Done(ctx, t0), nil)
	acquire(t, r, t0, 5, 0, ms(100))
	// A release never fills the bucket past the burst.
	wantErr(t, "Release", r.Release(ctx, t0.Add(time.Hour), 2), nil)
	if got := r.TokensAt(t0.Add(time.Hour)); got != 3 {
		t.Fatalf("TokensAt = %v after a release into a full bucket, want 3", got)
	}
	acquire(t, r, t0.Add(time.Hour), 5, 3, 0)
}

func TestRateOverRelease(t *testing.T) {
	t.Parallel()
	r := Must(NewRate(10, 3))
	acquire(t, r, t0, 1, 1, 0)
	wantErr(t, "Release(3) holding 1", r.Release(ctx, t0, 3), ErrOverRelease)
	if got := r.TokensAt(t0); got != 3 {
		t.Fatalf("TokensAt = %v after over-release, want 3 (only the held token back)", got)
	}
	wantErr(t, "Done holding 0", r.Done(ctx, t0), ErrOverRelease)
	wantErr(t, "Release(-1)", r.Release(ctx, t0, -1), ErrNegativeCount)
	if _, _, err := r.Acquire(ctx, t0, -1); err != ErrNegativeCount {
		t.Fatalf("Acquire(-1): err = %v, want ErrNegativeCount", err)
	}
	acquire(t, r, t0, 10, 3, 0)
}

func TestRateBackwardsTime(t *testing.T) {
	t.Parallel()
	r := Must(NewRate(10, 1))
	acquire(t, r, t0.Add(ms(500)), 1, 1, 0)
	// A caller whose clock reads earlier refills nothing.
	acquire(t, r, t0, 1, 0, ms(600))
	acquire(t, r, t0.Add(ms(550)), 1, 0, ms(50))
	acquire(t, r, t0.Add(ms(600)), 1, 1, 0)
}

func TestRateInfinite(t *testing.T) {
	t.Parallel()
	r := Must(NewRate(rate.Inf, 0))
	acquire(t, r, t0, 1000, 1000, 0)
	wantErr(t, "Release", r.Release(ctx, t0, 999), nil)
	wantErr(t, "Done", r.Done(ctx, t0), nil)
	wantErr(t, "Done", r.Done(ctx, t0), ErrOverRelease)
}

func TestRateZero(t *testing.T) {
	t.Parallel()
	r := Must(NewRate(0, 2))
	acquire(t, r, t0, 5, 2, 0)
	acquire(t, r, t0.Add(time.Hour), 5, 0, rate.InfDuration)
	wantErr(t, "Release", r.Release(ctx, t0, 1), nil)
	acquire(t, r, t0.Add(time.Hour), 5, 1, 0)

	var zero Rate
	acquire(t, &zero, t0, 1, 0, rate.InfDuration)
}
