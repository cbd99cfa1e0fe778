package runtime_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/runtimetest"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// BenchmarkMemory runs the runtime benchmarks (see runtimetest.Benchmark)
// on the memory backend; the BarePool benchmarks beside it do the same
// no-op work on a plain channel-fed worker pool, so the ratio of the two
// is the runtime's own overhead.
func BenchmarkMemory(b *testing.B) {
	runtimetest.Benchmark(b, func(b *testing.B) storage.Storage {
		s := memory.New()
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkBarePool is the baseline: a pool of runtimetest.BenchWorkers
// goroutines fed by a channel.
func BenchmarkBarePool(b *testing.B) {
	b.Run("BurnDown", func(b *testing.B) {
		items := make(chan int, b.N)
		for i := 0; i < b.N; i++ {
			items <- i
		}
		close(items)
		b.ResetTimer()
		pool(items, func(int) { noopWork() }).Wait()
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	})
	b.Run("SubmitWhileWorking", func(b *testing.B) {
		items := make(chan int, 1024)
		workers := pool(items, func(int) { noopWork() })
		n := int64(b.N)
		var next atomic.Int64
		var producers sync.WaitGroup
		b.ResetTimer()
		for range 8 {
			producers.Add(1)
			go func() {
				defer producers.Done()
				for i := next.Add(1); i <= n; i = next.Add(1) {
					items <- int(i)
				}
			}()
		}
		producers.Wait()
		close(items)
		workers.Wait()
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	})
	b.Run("SubmitToStart", func(b *testing.B) {
		items := make(chan int)
		started := make(chan time.Time, 1)
		workers := pool(items, func(int) { started <- time.Now() })
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			items <- i
			lat = append(lat, (<-started).Sub(t0))
		}
		b.StopTimer()
		close(items)
		workers.Wait()
		runtimetest.ReportLatency(b, lat)
	})
}

// pool starts runtimetest.BenchWorkers goroutines that call work for each
// item until items is closed.
func pool(items <-chan int, work func(int)) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range runtimetest.BenchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range items {
				work(i)
			}
		}()
	}
	return &wg
}

//go:noinline
func noopWork() {}
