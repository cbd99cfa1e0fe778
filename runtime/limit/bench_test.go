package limit

import (
	"sync/atomic"
	"testing"
	"time"
)

// benchAcquireDone measures one admission and its end, the fetch loop's
// hot path, with the clock moving step per admission.
func benchAcquireDone(b *testing.B, l Limiter, step time.Duration) {
	b.ReportAllocs()
	now := t0
	for b.Loop() {
		now = now.Add(step)
		n, _, err := l.Acquire(ctx, now, 1)
		if err != nil || n != 1 {
			b.Fatalf("Acquire = %d, %v", n, err)
		}
		if err := l.Done(ctx, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConcurrency(b *testing.B) {
	benchAcquireDone(b, Must(NewConcurrency(4)), time.Microsecond)
}

func BenchmarkRate(b *testing.B) {
	benchAcquireDone(b, Must(NewRate(2e6, 4)), time.Microsecond)
}

func BenchmarkSpacing(b *testing.B) {
	benchAcquireDone(b, Must(NewSpacing(time.Microsecond)), time.Microsecond)
}

func BenchmarkAll(b *testing.B) {
	l := All(Must(NewConcurrency(4)), Must(NewRate(2e6, 4)), Must(NewSpacing(time.Microsecond)))
	benchAcquireDone(b, l, time.Microsecond)
}

// BenchmarkAllRefused measures a composite whose last limiter refuses, so
// every Acquire gives the earlier limiters' admissions back.
func BenchmarkAllRefused(b *testing.B) {
	c := Must(NewConcurrency(4))
	r := Must(NewRate(2e6, 4))
	full := Must(NewConcurrency(1))
	full.Acquire(ctx, t0, 1)
	l := All(c, r, full)
	b.ReportAllocs()
	for b.Loop() {
		if n, _, err := l.Acquire(ctx, t0, 4); err != nil || n != 0 {
			b.Fatalf("Acquire = %d, %v", n, err)
		}
	}
}

// BenchmarkParallel measures contention: every P runs fetch-loop-like
// Acquire/Done pairs against one shared limiter.
func BenchmarkParallel(b *testing.B) {
	for _, bc := range []struct {
		name string
		new  func() Limiter
	}{
		{"Concurrency", func() Limiter { return Must(NewConcurrency(1 << 20)) }},
		{"Rate", func() Limiter { return Must(NewRate(1e12, 1<<20)) }},
		{"All", func() Limiter {
			return All(Must(NewConcurrency(1<<20)), Must(NewRate(1e12, 1<<20)))
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := bc.new()
			var clock atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					now := t0.Add(time.Duration(clock.Add(1)))
					n, _, err := l.Acquire(ctx, now, 1)
					if err != nil || n != 1 {
						b.Errorf("Acquire = %d, %v", n, err)
						return
					}
					if err := l.Done(ctx, now); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
