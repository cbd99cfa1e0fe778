package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func testInsert(t *testing.T, f factory) {
	f.run(t, "Fields", func(t *testing.T, x *fixture) {
		p := &storage.JobInsertParams{
			Kind:        "email",
			Queue:       "mail",
			Input:       []byte(`{"to":"ada@example.com"}`),
			Priority:    5,
			MaxAttempts: 4,
			RunAfter:    at(time.Hour),
			Deadline:    at(2 * time.Hour),
			Timeout:     90 * time.Second,
			UniqueKey:   "ada",
			Now:         base,
		}
		res, err := x.s.JobInsert(x.ctx, p)
		if err != nil {
			t.Fatalf("JobInsert: %v", err)
		}
		if res.Duplicate {
			t.Errorf("JobInsert into an empty store: Duplicate = true")
		}
		got := res.Job
		if got == nil || got.ID <= 0 {
			t.Fatalf("JobInsert returned job %+v, want a positive ID", got)
		}
		want := &storage.Job{
			ID:          got.ID,
			Kind:        "email",
			Queue:       "mail",
			Input:       []byte(`{"to":"ada@example.com"}`),
			State:       storage.StatePending,
			Priority:    5,
			Attempt:     0,
			MaxAttempts: 4,
			RunAfter:    at(time.Hour),
			Deadline:    at(2 * time.Hour),
			Timeout:     90 * time.Second,
			UniqueKey:   "ada",
			CreatedAt:   base,
		}
		checkJob(t, "JobInsert", got, want)
		x.want(want)
	})

	f.run(t, "Defaults", func(t *testing.T, x *fixture) {
		// A zero RunAfter means ready now: RunAfter = Now. Nothing else is
		// filled in.
		got := x.insert(&storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, Now: base})
		want := &storage.Job{
			ID:          got.ID,
			Kind:        "k",
			Queue:       "q",
			State:       storage.StatePending,
			MaxAttempts: 1,
			RunAfter:    base,
			CreatedAt:   base,
		}
		checkJob(t, "JobInsert", got, want)
		x.want(want)
	})

	f.run(t, "InputCopied", func(t *testing.T, x *fixture) {
		in := []byte(`{"n":1}`)
		p := job("q", "k")
		p.Input = in
		j := x.insert(p)
		copy(in, `{"n":2}`)
		if got := string(x.get(j.ID).Input); got != `{"n":1}` {
			t.Errorf("after the caller reused its input buffer, stored Input = %s, want {\"n\":1}", got)
		}
	})

	f.run(t, "IDs", func(t *testing.T, x *fixture) {
		// IDs are positive, unique across queues and kinds, and increase in
		// insertion order.
		var last int64
		seen := make(map[int64]bool)
		for _, q := range []string{"a", "b", "c"} {
			for _, k := range []string{"k1", "k2"} {
				j := x.insert(job(q, k))
				if j.ID <= 0 || seen[j.ID] || j.ID <= last {
					t.Fatalf("insert into queue %q, kind %q got ID %d after ID %d (seen: %v)", q, k, j.ID, last, seen[j.ID])
				}
				seen[j.ID] = true
				last = j.ID
			}
		}
	})

	f.run(t, "Many", func(t *testing.T, x *fixture) {
		ps := []*storage.JobInsertParams{job("q1", "a"), job("q2", "b"), job("q1", "c"), job("q1", "a")}
		ps[1].Priority = -2
		ps[2].RunAfter = at(time.Minute)
		ps[3].Input = []byte(`{"n":4}`)
		res, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base})
		if err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		if len(res) != len(ps) {
			t.Fatalf("JobInsertMany of %d jobs returned %d results", len(ps), len(res))
		}
		var last int64
		for i, r := range res {
			if r.Duplicate {
				t.Errorf("result %d: Duplicate = true", i)
			}
			p := ps[i]
			runAfter := p.RunAfter
			if runAfter.IsZero() {
				runAfter = base
			}
			want := &storage.Job{
				ID:          r.Job.ID,
				Kind:        p.Kind,
				Queue:       p.Queue,
				Input:       p.Input,
				State:       storage.StatePending,
				Priority:    p.Priority,
				MaxAttempts: p.MaxAttempts,
				RunAfter:    runAfter,
				CreatedAt:   base,
			}
			checkJob(t, "JobInsertMany result", r.Job, want)
			x.want(want)
			if r.Job.ID <= last {
				t.Errorf("result %d: ID %d, want more than the previous ID %d", i, r.Job.ID, last)
			}
			last = r.Job.ID
		}
	})

	f.run(t, "ManyEmpty", func(t *testing.T, x *fixture) {
		res, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Now: base})
		if err != nil || len(res) != 0 {
			t.Fatalf("JobInsertMany of no jobs = %d results, %v; want none and no error", len(res), err)
		}
	})

	f.run(t, "Invalid", func(t *testing.T, x *fixture) {
		for _, tc := range []struct {
			name string
			edit func(*storage.JobInsertParams)
		}{
			{"empty kind", func(p *storage.JobInsertParams) { p.Kind = "" }},
			{"empty queue", func(p *storage.JobInsertParams) { p.Queue = "" }},
			{"zero max attempts", func(p *storage.JobInsertParams) { p.MaxAttempts = 0 }},
			{"negative max attempts", func(p *storage.JobInsertParams) { p.MaxAttempts = -1 }},
			{"negative timeout", func(p *storage.JobInsertParams) { p.Timeout = -time.Second }},
		} {
			p := job("q", "k")
			tc.edit(p)
			if _, err := x.s.JobInsert(x.ctx, p); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("JobInsert with %s: error %v, want one matching storage.ErrInvalid", tc.name, err)
			}
			bad := job("q", "k")
			tc.edit(bad)
			many := &storage.JobInsertManyParams{Jobs: []*storage.JobInsertParams{job("q", "k"), bad, job("q", "k")}, Now: base}
			if _, err := x.s.JobInsertMany(x.ctx, many); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("JobInsertMany with %s in the middle: error %v, want one matching storage.ErrInvalid", tc.name, err)
			}
		}
		if n := x.count(); n != 0 {
			t.Errorf("after invalid inserts the store holds %d jobs, want 0", n)
		}
	})
}
