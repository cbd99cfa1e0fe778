package runtimetest

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
)

// NewBenchStore returns a fresh, empty store for one benchmark and
// registers its cleanup with b.
type NewBenchStore func(b *testing.B) storage.Storage

// Benchmark runs no-op jobs through a whole runtime.Server over stores from
// newStore, as sub-benchmarks:
//
//   - BurnDown works off b.N jobs inserted before the server starts;
//   - SubmitWhileWorking submits b.N jobs from 8 goroutines, one by one,
//     while the server works them, and times until all are done;
//   - SubmitToStart and SubmitToWait submit one job at a time and report
//     the p50 and p99 of the time to the handler's start and to WaitFor's
//     return.
//
// Throughput is reported as jobs/s, latency as p50-µs and p99-µs.
func Benchmark(b *testing.B, newStore NewBenchStore) {
	b.Run("BurnDown", func(b *testing.B) { benchBurnDown(b, newStore(b)) })
	b.Run("SubmitWhileWorking", func(b *testing.B) { benchSubmitWhileWorking(b, newStore(b)) })
	b.Run("SubmitToStart", func(b *testing.B) { benchLatency(b, newStore(b), false) })
	b.Run("SubmitToWait", func(b *testing.B) { benchLatency(b, newStore(b), true) })
}

// BenchWorkers is the number of workers the benchmarks' server runs.
const BenchWorkers = 100

type noopArgs struct{}

var noopKind = runtime.NewKind[noopArgs, runtime.NoOutput](runtime.KindOpts{Name: "noop"})

func benchServer(b *testing.B, store storage.Storage, handler runtime.HandlerFunc[noopArgs, runtime.NoOutput]) *runtime.Server {
	srv, err := runtime.NewServer(store, runtime.Config{
		Logger: slog.New(slog.DiscardHandler),
		Queues: map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: BenchWorkers}},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := noopKind.Register(srv, handler); err != nil {
		b.Fatal(err)
	}
	return srv
}

// counter returns a handler that closes all once it has run n times.
func counter(n int) (runtime.HandlerFunc[noopArgs, runtime.NoOutput], <-chan struct{}) {
	var done atomic.Int64
	all := make(chan struct{})
	return func(context.Context, *runtime.Job[noopArgs]) (runtime.NoOutput, error) {
		if done.Add(1) == int64(n) {
			close(all)
		}
		return runtime.NoOutput{}, nil
	}, all
}

func benchBurnDown(b *testing.B, store storage.Storage) {
	batch := make([]*storage.JobInsertParams, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, &storage.JobInsertParams{Kind: noopKind.Name(), Queue: runtime.DefaultQueue, Input: []byte("{}"), MaxAttempts: 1})
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := store.JobInsertMany(context.Background(), &storage.JobInsertManyParams{Jobs: batch}); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	handler, all := counter(b.N)
	srv := benchServer(b, store, handler)
	cpu := startCPU()
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
	cpu.report(b)
}

// cpuMeter measures the process's CPU time over a benchmark: on a shared,
// noisy machine the CPU a job costs is steadier than the wall time.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	d, ok := processCPU()
	return cpuMeter{start: d, ok: ok}
}

// report adds the CPU time per job in microseconds as cpu-µs/job.
func (m cpuMeter) report(b *testing.B) {
	if end, ok := processCPU(); ok && m.ok {
		b.ReportMetric(float64((end-m.start).Nanoseconds())/1e3/float64(b.N), "cpu-µs/job")
	}
}

func benchSubmitWhileWorking(b *testing.B, store storage.Storage) {
	handler, all := counter(b.N)
	srv := benchServer(b, store, handler)
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	client := srv.Client()
	n := int64(b.N)
	cpu := startCPU()
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
	if err := srv.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	cpu.report(b)
}

func benchLatency(b *testing.B, store storage.Storage, wait bool) {
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
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		h, err := noopKind.Submit(ctx, client, noopArgs{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		at := <-started
		if wait {
			if _, err := h.Wait(ctx); err != nil {
				b.Fatal(err)
			}
			at = time.Now()
		}
		lat = append(lat, at.Sub(t0))
	}
	b.StopTimer()
	ReportLatency(b, lat)
}

// ReportLatency reports the p50 and p99 of lat in microseconds.
func ReportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
