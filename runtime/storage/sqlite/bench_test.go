package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func benchInput() *storage.JobInsertParams {
	return &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 3, Input: []byte(`{"url":"https://example.com/a.png","width":640}`)}
}

func BenchmarkInsert(b *testing.B) {
	s, _ := newStore(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := s.JobInsert(ctx, benchInput()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}

func BenchmarkInsertMany100(b *testing.B) {
	s, _ := newStore(b, nil)
	ctx := context.Background()
	batch := make([]*storage.JobInsertParams, 100)
	for i := range batch {
		batch[i] = benchInput()
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/time.Since(start).Seconds(), "jobs/s")
}

// BenchmarkClaimFinish100 claims and completes batches of 100 out of
// 100,000 pre-inserted jobs; one op is one claim plus one finish.
func BenchmarkClaimFinish100(b *testing.B) {
	s, _ := newStore(b, nil)
	ctx := context.Background()
	fill := func() {
		batch := make([]*storage.JobInsertParams, 1000)
		for i := range batch {
			batch[i] = benchInput()
		}
		for range 100 {
			if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
				b.Fatal(err)
			}
		}
	}
	fill()
	fin := make([]storage.JobFinish, 0, 100)
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed time.Duration
	start := time.Now()
	jobs := 0
	for b.Loop() {
		r, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 100, LeaseDuration: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Jobs) == 0 {
			elapsed += time.Since(start)
			b.StopTimer()
			fill()
			b.StartTimer()
			start = time.Now()
			continue
		}
		fin = fin[:0]
		for _, j := range r.Jobs {
			fin = append(fin, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte(`{"ok":true}`)})
		}
		if _, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: fin}); err != nil {
			b.Fatal(err)
		}
		jobs += len(r.Jobs)
	}
	elapsed += time.Since(start)
	b.ReportMetric(float64(jobs)/elapsed.Seconds(), "jobs/s")
}

// BenchmarkHeartbeat100 renews 100 held leases per op.
func BenchmarkHeartbeat100(b *testing.B) {
	s, _ := newStore(b, nil)
	ctx := context.Background()
	batch := make([]*storage.JobInsertParams, 1000)
	for i := range batch {
		batch[i] = benchInput()
	}
	for range 10 {
		if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
			b.Fatal(err)
		}
	}
	r, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 100, LeaseDuration: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	var leases []storage.Lease
	for _, j := range r.Jobs {
		leases = append(leases, storage.Lease{ID: j.ID, Token: j.LeaseToken})
	}
	b.ReportAllocs()
	for b.Loop() {
		hb, err := s.JobHeartbeat(ctx, &storage.JobHeartbeatParams{Leases: leases, LeaseDuration: time.Minute})
		if err != nil || len(hb.Lost) > 0 {
			b.Fatal(err, hb.Lost)
		}
	}
}
