package sqlite

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// The runtime benchmarks run no-op jobs through a whole runtime.Server on
// this backend, as runtime's own benchmarks do on memory.

type noopArgs struct{}

var noopKind = runtime.NewKind[noopArgs, runtime.NoOutput](runtime.KindOpts{Name: "noop"})

func benchServer(b *testing.B, store storage.Storage, handler runtime.HandlerFunc[noopArgs, runtime.NoOutput]) *runtime.Server {
	srv, err := runtime.NewServer(store, runtime.Config{
		Logger: slog.New(slog.DiscardHandler),
		Queues: map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: 100}},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := noopKind.Register(srv, handler); err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkRuntimeBurnDown works off b.N pre-inserted no-op jobs.
func BenchmarkRuntimeBurnDown(b *testing.B) {
	store, _ := newStore(b, nil)
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
	if err := srv.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkRuntimeSubmitWhileWorking submits b.N jobs from 8 goroutines
// while the server works them.
func BenchmarkRuntimeSubmitWhileWorking(b *testing.B) {
	store, _ := newStore(b, nil)
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
