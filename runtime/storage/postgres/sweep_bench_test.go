package postgres

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// sweepMeter is the store of BenchmarkSweepKeepsPace: it counts what the
// sweep deletes and closes done once that reaches target. Embedding *Store
// keeps its notifications and its insert-and-claim, so the server works as
// it does over the bare store.
type sweepMeter struct {
	*Store
	target  int64
	deleted atomic.Int64
	once    sync.Once
	done    chan struct{}
}

func (s *sweepMeter) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	n, err := s.Store.JobDeleteFinished(ctx, p)
	if s.deleted.Add(int64(n)) >= s.target {
		s.once.Do(func() { close(s.done) })
	}
	return n, err
}

// fillExpired inserts n jobs that completed two hours ago, in one
// statement, of a kind and queue nothing claims.
func fillExpired(tb testing.TB, s *Store, n int) {
	tb.Helper()
	if _, err := s.pool.Exec(tb.Context(), s.n.render(`INSERT INTO {jobs} (kind, queue, state, attempt, max_attempts,
			run_after, input, output, created_at, attempted_at, finished_at)
		SELECT 'expired', 'expired', 'completed', 1, 1, now() - interval '3 hours', '{}', '{}',
			now() - interval '3 hours', now() - interval '3 hours', now() - interval '2 hours' + i * interval '1 microsecond'
		FROM generate_series(1, $1) i`), n); err != nil {
		tb.Fatal(err)
	}
}

var sweepBenchKind = runtime.NewKind[struct{}, runtime.NoOutput](runtime.KindOpts{Name: "noop"})

// BenchmarkSweepKeepsPace measures how fast the retention sweep deletes
// while the server works: the table holds b.N completed jobs past their
// TTL and 2×b.N pending no-op jobs; the server starts, its first sweep
// round deletes the expired jobs in batches of the default size while 100
// workers burn the pending ones down. It reports the sweep's rate as
// deleted/s and the jobs the server finished meanwhile as jobs/s; a
// deleted/s above the rate at which jobs finish means the sweep keeps pace.
// The table is not analysed after the seeding, so the statistics still
// describe an empty table, as after a burst (see JobDeleteFinished). Run it
// with a fixed count, e.g. -benchtime=200000x.
func BenchmarkSweepKeepsPace(b *testing.B) {
	store := newTestStore(b)
	ctx := context.Background()
	fillExpired(b, store, b.N)
	if _, err := store.pool.Exec(ctx, store.n.render(`INSERT INTO {jobs} (kind, queue, max_attempts, run_after, input, created_at)
		SELECT 'noop', 'default', 25, now(), '{}', now() FROM generate_series(1, $1)`), 2*b.N); err != nil {
		b.Fatal(err)
	}

	meter := &sweepMeter{Store: store, target: int64(b.N), done: make(chan struct{})}
	srv, err := runtime.NewServer(meter, runtime.Config{
		Logger:    slog.New(slog.DiscardHandler),
		Queues:    map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: 100}},
		Retention: runtime.Retention{Completed: time.Hour, SweepInterval: time.Hour},
	})
	if err != nil {
		b.Fatal(err)
	}
	var worked atomic.Int64
	if err := sweepBenchKind.Register(srv, func(context.Context, *runtime.Job[struct{}]) (runtime.NoOutput, error) {
		worked.Add(1)
		return runtime.NoOutput{}, nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := srv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	<-meter.done
	b.StopTimer()
	during := worked.Load()
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := srv.StopAndCancel(stopCtx); err != nil {
		b.Fatal(err)
	}
	if during >= int64(2*b.N) {
		b.Errorf("the server ran out of work (%d jobs) before the sweep was done", during)
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "deleted/s")
	b.ReportMetric(float64(during)/secs, "jobs/s")
}
