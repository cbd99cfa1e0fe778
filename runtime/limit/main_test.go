package limit

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ctx is the context of every call: the limiters here ignore it.
var ctx = context.Background()

// t0 is the start of every test's clock.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// acquire calls l.Acquire and fails the test unless it returns wantN,
// wantWait and no error.
func acquire(t *testing.T, l Limiter, now time.Time, max, wantN int, wantWait time.Duration) {
	t.Helper()
	n, wait, err := l.Acquire(ctx, now, max)
	if err != nil || n != wantN || wait != wantWait {
		t.Fatalf("Acquire(t0+%v, %d) = %d, %v, %v; want %d, %v, nil",
			now.Sub(t0), max, n, wait, err, wantN, wantWait)
	}
}

// wantErr fails the test unless errors.Is(err, want) (or err is nil when
// want is nil).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}
