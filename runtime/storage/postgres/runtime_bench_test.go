package postgres

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

type noopArgs struct{}

var noopKind = runtime.NewKind[noopArgs, runtime.NoOutput](runtime.KindOpts{Name: "noop", MaxAttempts: 1})

// benchServer returns an unstarted server of 100 workers on the default
// queue whose no-op handler closes all after n jobs.
func benchServer(b testing.TB, s storage.Storage, n int64, all chan struct{}) *runtime.Server {
	srv, err := runtime.NewServer(s, runtime.Config{
		Logger: slog.New(slog.DiscardHandler),
		Queues: map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: 100}},
	})
	if err != nil {
		b.Fatal(err)
	}
	var done atomic.Int64
	err = noopKind.Register(srv, func(context.Context, *runtime.Job[noopArgs]) (runtime.NoOutput, error) {
		if done.Add(1) == n {
			close(all)
		}
		return runtime.NoOutput{}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkRuntimeBurnDown: a runtime server works off b.N pre-inserted
// no-op jobs (kept after they complete).
func BenchmarkRuntimeBurnDown(b *testing.B) {
	s := newTestStore(b)
	batch := make([]*storage.JobInsertParams, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, &storage.JobInsertParams{Kind: "noop", Queue: runtime.DefaultQueue, Input: []byte("{}"), MaxAttempts: 1})
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := s.JobInsertMany(b.Context(), &storage.JobInsertManyParams{Jobs: batch}); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	all := make(chan struct{})
	srv := benchServer(b, s, int64(b.N), all)
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

// BenchmarkRuntimeSubmitWhileWorking: 8 goroutines submit b.N jobs one by
// one through the server's client while it works them.
func BenchmarkRuntimeSubmitWhileWorking(b *testing.B) {
	s := newTestStore(b)
	all := make(chan struct{})
	n := int64(b.N)
	srv := benchServer(b, s, n, all)
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	client := srv.Client()
	b.ResetTimer()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for next.Add(1) <= n {
				if _, err := noopKind.Submit(context.Background(), client, noopArgs{}, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	<-all
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	if err := srv.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
}
