package runtime_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// The benchmarks run no-op jobs through the whole runtime on the memory
// backend, beside a bare channel-based worker pool doing the same no-op
// work, so the ratio shows the runtime's own overhead.

type noopArgs struct{}

var noopKind = runtime.NewKind[noopArgs, runtime.NoOutput](runtime.KindOpts{Name: "noop"})

const benchWorkers = 100

func benchServer(b *testing.B, store storage.Storage, handler runtime.HandlerFunc[noopArgs, runtime.NoOutput]) *runtime.Server {
	srv, err := runtime.NewServer(store, runtime.Config{
		Logger: slog.New(slog.DiscardHandler),
		Queues: map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: benchWorkers}},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := noopKind.Register(srv, handler); err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkBurnDown works off b.N pre-submitted no-op jobs.
func BenchmarkBurnDown(b *testing.B) {
	store := memory.New()
	defer store.Close()
	batch := make([]*storage.JobInsertParams, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, &storage.JobInsertParams{Kind: "noop", Queue: runtime.DefaultQueue, Input: []byte("{}"), MaxAttempts: 1})
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := store.JobInsertMany(context.Background(), &storage.JobInsertManyParams{Jobs: batch}); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	var done atomic.Int64
	all := make(chan struct{})
	n := int64(b.N)
	srv := benchServer(b, store, func(context.Context, *runtime.Job[noopArgs]) (runtime.NoOutput, error) {
		if done.Add(1) == n {
			close(all)
		}
		return runtime.NoOutput{}, nil
	})
	b.ResetTimer()
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	<-all
	if err := srv.Stop(context.Background()); err != nil { // drains the last writes
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkBarePoolBurnDown is the baseline: a channel of b.N items worked
// by the same number of goroutines.
func BenchmarkBarePoolBurnDown(b *testing.B) {
	items := make(chan int, b.N)
	for i := 0; i < b.N; i++ {
		items <- i
	}
	close(items)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range items {
				noopWork()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

//go:noinline
func noopWork() {}

// BenchmarkSubmitWhileWorking submits b.N jobs from 8 goroutines while the
// server works them.
func BenchmarkSubmitWhileWorking(b *testing.B) {
	store := memory.New()
	defer store.Close()
	var done atomic.Int64
	all := make(chan struct{})
	n := int64(b.N)
	srv := benchServer(b, store, func(context.Context, *runtime.Job[noopArgs]) (runtime.NoOutput, error) {
		if done.Add(1) == n {
			close(all)
		}
		return runtime.NoOutput{}, nil
	})
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	client := srv.Client()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n {
				if _, err := noopKind.Submit(context.Background(), client, noopArgs{}, nil); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-all
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	if err := srv.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBarePoolSubmitWhileWorking is the baseline: 8 goroutines send
// into a channel worked by the pool.
func BenchmarkBarePoolSubmitWhileWorking(b *testing.B) {
	items := make(chan int, 1024)
	var wg sync.WaitGroup
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range items {
				noopWork()
			}
		}()
	}
	n := int64(b.N)
	var next atomic.Int64
	var prod sync.WaitGroup
	b.ResetTimer()
	for range 8 {
		prod.Add(1)
		go func() {
			defer prod.Done()
			for i := next.Add(1); i <= n; i = next.Add(1) {
				items <- int(i)
			}
		}()
	}
	prod.Wait()
	close(items)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkSubmitToStart measures, one job at a time, the time from Submit
// to the handler's start and reports its p50 and p99.
func BenchmarkSubmitToStart(b *testing.B) {
	store := memory.New()
	defer store.Close()
	started := make(chan time.Time, 1)
	srv := benchServer(b, store, func(context.Context, *runtime.Job[noopArgs]) (runtime.NoOutput, error) {
		started <- time.Now()
		return runtime.NoOutput{}, nil
	})
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())
	client := srv.Client()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := noopKind.Submit(context.Background(), client, noopArgs{}, nil); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-started).Sub(t0))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkBarePoolSubmitToStart is the baseline: the time from a channel
// send to a pool goroutine receiving it.
func BenchmarkBarePoolSubmitToStart(b *testing.B) {
	items := make(chan time.Time)
	started := make(chan time.Time, 1)
	var wg sync.WaitGroup
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range items {
				started <- time.Now()
			}
		}()
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		items <- t0
		lat = append(lat, (<-started).Sub(t0))
	}
	b.StopTimer()
	close(items)
	wg.Wait()
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
