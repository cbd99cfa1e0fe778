package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobgen/jobgen/runtime/storage"
)

// testInsertManyLarge: a large JobInsertMany (backends may write it
// otherwise than a small one) stores every job with its own fields,
// metadata included, returns each as JobGet reads it, in order, with ascending ids, and the
// jobs are claimed like any others.
func testInsertManyLarge(t *testing.T, f factory) {
	const n = 1000
	batch := func() []*storage.JobInsertParams {
		ps := make([]*storage.JobInsertParams, n)
		for i := range ps {
			p := job("q", "k")
			p.Input = fmt.Appendf(nil, `{"n":%d}`, i)
			switch i % 4 {
			case 1:
				p.Priority = -1
			case 2:
				p.RunAfter = at(time.Hour)
				p.Deadline = at(2 * time.Hour)
			case 3:
				p.Timeout = 3 * time.Second
				p.Queue = "other"
				p.Metadata = map[string]string{"traceparent": fmt.Sprintf("00-%032x-%016x-01", i, i), "note": "é \"q\""}
			}
			ps[i] = p
		}
		return ps
	}

	f.run(t, "Fields", func(t *testing.T, x *fixture) {
		ps := batch()
		res, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base})
		if err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		if len(res) != n {
			t.Fatalf("JobInsertMany of %d jobs returned %d results", n, len(res))
		}
		var last int64
		for i, r := range res {
			p := ps[i]
			runAfter := p.RunAfter
			if runAfter.IsZero() {
				runAfter = base
			}
			want := &storage.Job{
				ID: r.Job.ID, Kind: p.Kind, Queue: p.Queue, Input: p.Input, State: storage.StatePending,
				Priority: p.Priority, MaxAttempts: p.MaxAttempts, RunAfter: runAfter, Deadline: p.Deadline,
				Timeout: p.Timeout, CreatedAt: base, Metadata: p.Metadata,
			}
			if r.Duplicate {
				t.Errorf("result %d: Duplicate = true", i)
			}
			checkJob(t, fmt.Sprintf("JobInsertMany result %d", i), r.Job, want)
			if i%97 == 0 {
				x.want(want)
			}
			if r.Job.ID <= last {
				t.Fatalf("result %d: ID %d, want more than the previous ID %d", i, r.Job.ID, last)
			}
			last = r.Job.ID
		}
		if got := x.count(); got != n {
			t.Errorf("store holds %d jobs, want %d", got, n)
		}
		// Claim order: priority, then run-after, then id.
		c := x.claimAt(at(time.Minute), 3, "q", "k")
		want := []int64{res[1].Job.ID, res[5].Job.ID, res[9].Job.ID}
		if d := cmp.Diff(want, ids(c.Jobs)); d != "" {
			t.Errorf("first claim (-want +got):\n%s", d)
		}
	})

	f.run(t, "StorageClock", func(t *testing.T, x *fixture) {
		// Without Now, the storage's clock stamps the jobs.
		ps := batch()
		for _, p := range ps {
			p.Now = time.Time{}
		}
		before := time.Now().Add(-time.Minute)
		res, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps})
		if err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		after := time.Now().Add(time.Minute)
		for i, r := range res {
			created := r.Job.CreatedAt
			if created.Before(before) || created.After(after) || (ps[i].RunAfter.IsZero() && !r.Job.RunAfter.Equal(created)) {
				t.Fatalf("result %d: created %v, run after %v; want about now for both", i, created, r.Job.RunAfter)
			}
			if i%97 == 0 {
				checkJob(t, fmt.Sprintf("result %d", i), x.get(r.Job.ID), r.Job)
			}
		}
	})
}
