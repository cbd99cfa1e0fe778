package postgres

import (
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func BenchmarkInsert(b *testing.B) {
	s := newTestStore(b)
	ctx := b.Context()
	p := insertParams("q", "k")
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.JobInsert(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

func BenchmarkInsertMany100(b *testing.B) {
	s := newTestStore(b)
	ctx := b.Context()
	batch := make([]*storage.JobInsertParams, 100)
	for i := range batch {
		batch[i] = insertParams("q", "k")
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "jobs/s")
}

// fill inserts n ready jobs in batches of 1,000.
func fill(tb testing.TB, s *Store, n int) {
	tb.Helper()
	batch := make([]*storage.JobInsertParams, 1000)
	for i := range batch {
		batch[i] = insertParams("q", "k")
		batch[i].Input = []byte(`{"url":"https://example.com/a.png","width":640}`)
	}
	for n > 0 {
		k := min(n, len(batch))
		if _, err := s.JobInsertMany(tb.Context(), &storage.JobInsertManyParams{Jobs: batch[:k]}); err != nil {
			tb.Fatal(err)
		}
		n -= k
	}
}

// emptyAnalysed analyses the empty jobs table and runs a few claims on it,
// the situation in which a cached generic plan would be chosen for a table
// that then grows.
func emptyAnalysed(tb testing.TB, s *Store) {
	tb.Helper()
	if _, err := s.pool.Exec(tb.Context(), "ANALYZE "+s.n.jobs); err != nil {
		tb.Fatal(err)
	}
	for range 20 {
		if _, err := s.JobClaim(tb.Context(), &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 100, LeaseDuration: time.Minute}); err != nil {
			tb.Fatal(err)
		}
	}
}

// claimFinish claims up to limit jobs and completes them in one finish,
// and returns how many it handled.
func claimFinish(tb testing.TB, s *Store, limit int) int {
	res, err := s.JobClaim(tb.Context(), &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: limit, LeaseDuration: time.Minute})
	if err != nil {
		tb.Fatal(err)
	}
	if len(res.Jobs) == 0 {
		return 0
	}
	fs := make([]storage.JobFinish, len(res.Jobs))
	for i, j := range res.Jobs {
		fs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte(`{"ok":true}`), Delete: true}
	}
	fin, err := s.JobFinish(tb.Context(), &storage.JobFinishParams{Jobs: fs})
	if err != nil {
		tb.Fatal(err)
	}
	for i, ok := range fin.Applied {
		if !ok {
			tb.Fatalf("finish of job %d not applied", fs[i].ID)
		}
	}
	return len(res.Jobs)
}

// BenchmarkClaimFinish100 claims and completes batches of 100 over a
// backlog of 100,000 jobs inserted into a table that was analysed while
// empty (see emptyAnalysed); it refills the backlog when it runs out.
func BenchmarkClaimFinish100(b *testing.B) {
	const backlog = 100_000
	s := newTestStore(b)
	emptyAnalysed(b, s)
	fill(b, s, backlog)
	left := backlog
	jobs := 0
	b.ResetTimer()
	for b.Loop() {
		if left < 100 {
			b.StopTimer()
			fill(b, s, backlog)
			left += backlog
			b.StartTimer()
		}
		n := claimFinish(b, s, 100)
		left -= n
		jobs += n
	}
	b.ReportMetric(float64(jobs)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkClaimFinish100Parallel is BenchmarkClaimFinish100 with
// concurrent claimers, as several servers would claim.
func BenchmarkClaimFinish100Parallel(b *testing.B) {
	s := newTestStore(b)
	emptyAnalysed(b, s)
	fill(b, s, 100_000+b.N*100)
	b.ResetTimer()
	b.SetParallelism(2)
	var total = make(chan int, 64)
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			n += claimFinish(b, s, 100)
		}
		total <- n
	})
	close(total)
	jobs := 0
	for n := range total {
		jobs += n
	}
	b.ReportMetric(float64(jobs)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkInsertParallel inserts one job per call from 8 goroutines, as
// many submitting sessions would.
func BenchmarkInsertParallel(b *testing.B) {
	s := newTestStore(b)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		p := insertParams("q", "k")
		for pb.Next() {
			if _, err := s.JobInsert(b.Context(), p); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}
