package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func testGet(t *testing.T, f factory) {
	f.run(t, "AllFields", func(t *testing.T, x *fixture) {
		// A job that used every field keeps all of them.
		p := &storage.JobInsertParams{
			Kind:        "resize",
			Queue:       "media",
			Input:       []byte(`{"url":"https://example.com/a.png","width":640}`),
			Priority:    -3,
			MaxAttempts: 5,
			RunAfter:    at(-time.Second),
			Deadline:    at(time.Hour),
			Timeout:     2 * time.Minute,
			UniqueKey:   "https://example.com/a.png|640",
			Now:         base,
		}
		ins := x.insert(p)
		first := x.claimOne(base, "media", "resize")
		x.finishOne(at(time.Second), storage.JobFinish{ID: first.ID, LeaseToken: first.LeaseToken, Outcome: storage.OutcomeRetry, ErrorMessage: "timeout after 2m0s", ErrorCode: "timeout", RetryDelay: 10 * time.Second}, true)
		claimedAt := at(20 * time.Second)
		j := x.claimOne(claimedAt, "media", "resize")
		x.abort(at(21*time.Second), j.ID)
		doneAt := at(22 * time.Second)
		x.finishOne(doneAt, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte(`{"bytes":1234}`)}, true)

		want := &storage.Job{
			ID:               ins.ID,
			Kind:             "resize",
			Queue:            "media",
			Input:            p.Input,
			Output:           []byte(`{"bytes":1234}`),
			State:            storage.StateCompleted,
			Priority:         -3,
			Attempt:          2,
			MaxAttempts:      5,
			RunAfter:         at(11 * time.Second),
			AbortRequestedAt: at(21 * time.Second),
			Deadline:         at(time.Hour),
			Timeout:          2 * time.Minute,
			UniqueKey:        p.UniqueKey,
			CreatedAt:        base,
			AttemptedAt:      claimedAt,
			FinishedAt:       doneAt,
		}
		x.want(want)
	})

	f.run(t, "Unknown", func(t *testing.T, x *fixture) {
		j := x.insert(job("q", "k"))
		for _, id := range []int64{j.ID + 1000, 0, -1} {
			x.gone(id)
		}
	})
}

func testList(t *testing.T, f factory) {
	f.run(t, "Filter", func(t *testing.T, x *fixture) {
		var all []*storage.Job
		for _, q := range []string{"q1", "q2"} {
			for _, k := range []string{"k1", "k2"} {
				for range 2 {
					all = append(all, x.insert(job(q, k)))
				}
			}
		}
		// One running and one completed job in q1/k1, one running in q2/k2.
		r1 := x.stored(x.claimAt(base, 2, "q1", "k1").Jobs)
		x.complete(base, r1[1].ID, r1[1].LeaseToken)
		x.claimOne(base, "q2", "k2")
		for i, j := range all {
			all[i] = x.get(j.ID)
		}

		match := func(queue, kind string, states ...storage.State) []int64 {
			var out []int64
			for _, j := range all {
				if (queue == "" || j.Queue == queue) && (kind == "" || j.Kind == kind) && (len(states) == 0 || slices.Contains(states, j.State)) {
					out = append(out, j.ID)
				}
			}
			return out
		}
		for _, tc := range []struct {
			name string
			p    *storage.JobListParams
			want []int64
		}{
			{"everything", &storage.JobListParams{}, match("", "")},
			{"queue", &storage.JobListParams{Queue: "q1"}, match("q1", "")},
			{"kind", &storage.JobListParams{Kind: "k2"}, match("", "k2")},
			{"state", &storage.JobListParams{States: []storage.State{storage.StateRunning}}, match("", "", storage.StateRunning)},
			{"states", &storage.JobListParams{States: []storage.State{storage.StateRunning, storage.StateCompleted}}, match("", "", storage.StateRunning, storage.StateCompleted)},
			{"all filters", &storage.JobListParams{Queue: "q1", Kind: "k1", States: []storage.State{storage.StatePending, storage.StateCompleted}}, match("q1", "k1", storage.StatePending, storage.StateCompleted)},
			{"nothing matches", &storage.JobListParams{Queue: "q3"}, nil},
		} {
			got := x.list(tc.p)
			if !slices.Equal(jobIDs(got), tc.want) {
				t.Errorf("JobList(%s) = ids %v, want %v", tc.name, jobIDs(got), tc.want)
			}
			for _, j := range got {
				for _, w := range all {
					if w.ID == j.ID {
						checkJob(t, "JobList("+tc.name+")", j, w)
					}
				}
			}
		}
	})

	f.run(t, "Pages", func(t *testing.T, x *fixture) {
		var want []int64
		for i := range 7 {
			j := x.insert(job("q", "k"))
			if i == 3 {
				// Out of the middle: not pending any more.
				x.abort(base, j.ID)
			} else {
				want = append(want, j.ID)
			}
			x.insert(job("other", "k"))
		}
		var got []int64
		var after int64
		for page := 0; ; page++ {
			js := x.list(&storage.JobListParams{Queue: "q", States: []storage.State{storage.StatePending}, AfterID: after, Limit: 2})
			if len(js) > 2 {
				t.Fatalf("page %d has %d jobs, want at most 2", page, len(js))
			}
			if len(js) == 0 {
				break
			}
			if page > 10 {
				t.Fatalf("pagination does not end: page %d starts after ID %d", page, after)
			}
			got = append(got, jobIDs(js)...)
			after = js[len(js)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages listed ids %v, want %v", got, want)
		}
	})

	f.run(t, "DefaultLimit", func(t *testing.T, x *fixture) {
		// A zero Limit means pages of 100.
		ps := make([]*storage.JobInsertParams, 150)
		for i := range ps {
			ps[i] = job("q", "k")
		}
		if _, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base}); err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		js := x.list(&storage.JobListParams{})
		if len(js) != 100 {
			t.Fatalf("JobList without a limit returned %d jobs, want 100", len(js))
		}
		if rest := x.list(&storage.JobListParams{AfterID: js[99].ID}); len(rest) != 50 {
			t.Errorf("second page returned %d jobs, want 50", len(rest))
		}
	})

	f.run(t, "Empty", func(t *testing.T, x *fixture) {
		if js := x.list(&storage.JobListParams{}); len(js) != 0 {
			t.Errorf("JobList of an empty store = ids %v, want none", jobIDs(js))
		}
	})

	f.run(t, "Deleted", func(t *testing.T, x *fixture) {
		x.insert(job("q", "k"))
		j := x.claimOne(base, "q", "k")
		x.finishOne(base, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Delete: true}, true)
		keep := x.insert(job("q", "k"))
		if got := jobIDs(x.list(&storage.JobListParams{})); !slices.Equal(got, []int64{keep.ID}) {
			t.Errorf("JobList after a delete = ids %v, want [%d]", got, keep.ID)
		}
	})
}
