package memory_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

const batch = 100

// cpuTime returns the CPU time the process has used. Benchmarks report it
// per job besides the wall time, since on a shared machine it is the
// steadier of the two.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCPU starts the timer and CPU clock; the returned func stops both
// and reports CPU time per op.
func measureCPU(b *testing.B) func() {
	b.ResetTimer()
	start := cpuTime(b)
	return func() {
		b.StopTimer()
		b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

var benchInput = []byte(`{"url":"https://example.com/a.png","width":640}`)

func benchParams(i int) *storage.JobInsertParams {
	return &storage.JobInsertParams{Kind: "resize", Queue: "media", Input: benchInput, MaxAttempts: 3}
}

// fill inserts n ready jobs.
func fill(b *testing.B, s *memory.Store, n int) {
	b.Helper()
	ctx := context.Background()
	ps := make([]*storage.JobInsertParams, 0, batch)
	for n > 0 {
		ps = ps[:0]
		for range min(n, batch) {
			ps = append(ps, benchParams(n))
		}
		if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: ps}); err != nil {
			b.Fatal(err)
		}
		n -= len(ps)
	}
}

func BenchmarkInsert(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	p := benchParams(0)
	stop := measureCPU(b)
	for range b.N {
		if _, err := s.JobInsert(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}

// BenchmarkInsertMany inserts batches of 100; ns/op is per job.
func BenchmarkInsertMany(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	ps := make([]*storage.JobInsertParams, batch)
	for i := range ps {
		ps[i] = benchParams(i)
	}
	p := &storage.JobInsertManyParams{Jobs: ps}
	stop := measureCPU(b)
	for i := 0; i < b.N; i += batch {
		if _, err := s.JobInsertMany(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}

// claimFinish burns down n jobs already stored, claiming and finishing
// batches of 100.
func claimFinish(b *testing.B, s *memory.Store, n int, del bool) {
	ctx := context.Background()
	cp := &storage.JobClaimParams{Queue: "media", Kinds: []string{"resize"}, Limit: batch, LeaseDuration: time.Minute}
	fp := &storage.JobFinishParams{Jobs: make([]storage.JobFinish, 0, batch)}
	for done := 0; done < n; {
		res, err := s.JobClaim(ctx, cp)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			b.Fatalf("claimed nothing after %d of %d jobs", done, n)
		}
		fp.Jobs = fp.Jobs[:0]
		for _, j := range res.Jobs {
			fp.Jobs = append(fp.Jobs, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Delete: del})
		}
		if _, err := s.JobFinish(ctx, fp); err != nil {
			b.Fatal(err)
		}
		done += len(res.Jobs)
	}
}

// BenchmarkClaimFinish burns down a backlog of b.N jobs in batches of 100;
// ns/op is per job. Keep finishes completed jobs, Delete drops them.
func BenchmarkClaimFinish(b *testing.B) {
	for _, del := range []bool{false, true} {
		name := "Keep"
		if del {
			name = "Delete"
		}
		b.Run(name, func(b *testing.B) {
			s := memory.New()
			defer s.Close()
			fill(b, s, b.N)
			stop := measureCPU(b)
			claimFinish(b, s, b.N, del)
			stop()
		})
	}
}

// BenchmarkClaimFinishBacklog claims and finishes batches of 100 from a
// queue that holds a large backlog besides; ns/op is per job.
func BenchmarkClaimFinishBacklog(b *testing.B) {
	for _, backlog := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprint(backlog), func(b *testing.B) {
			s := memory.New()
			defer s.Close()
			fill(b, s, backlog+b.N)
			stop := measureCPU(b)
			claimFinish(b, s, b.N, true)
			stop()
		})
	}
}

// BenchmarkCycle inserts, claims and finishes batches of 100, as a busy
// runtime does; ns/op is per job.
func BenchmarkCycle(b *testing.B) {
	s := memory.New()
	defer s.Close()
	stop := measureCPU(b)
	for i := 0; i < b.N; i += batch {
		fill(b, s, batch)
		claimFinish(b, s, batch, true)
	}
	stop()
}
