package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobgen/jobgen/runtime/storage"
)

// query runs p and fails the test on an error.
func (x *fixture) query(p *storage.JobQueryParams) *storage.JobQueryResult {
	x.t.Helper()
	res, err := x.s.JobQuery(x.ctx, p)
	if err != nil {
		x.t.Fatalf("JobQuery(%+v): %v", *p, err)
	}
	return res
}

// walk lists every page of p's query and returns the ids in order.
func (x *fixture) walk(p storage.JobQueryParams) []int64 {
	x.t.Helper()
	var got []int64
	for range 1000 {
		res := x.query(&p)
		if len(res.Jobs) > p.QueryLimit() {
			x.t.Fatalf("JobQuery returned %d jobs, limit %d", len(res.Jobs), p.QueryLimit())
		}
		got = append(got, jobIDs(res.Jobs)...)
		if res.Next == "" {
			return got
		}
		if len(res.Jobs) == 0 {
			x.t.Fatalf("JobQuery returned an empty page with a next cursor")
		}
		p.Cursor = res.Next
	}
	x.t.Fatalf("JobQuery: no last page after 1000 pages")
	return nil
}

// mixedJobs stores jobs of queues "a" and "b", kinds "x" and "y", created a
// minute apart, in every state, and returns them as stored, in id order:
//
//	0 a/x pending        4 a/x completed at +10m   8 b/y failed at +12m
//	1 a/y pending (key)  5 a/y completed at +11m   9 b/x aborted at +13m
//	2 b/x pending later  6 b/x running
//	3 b/y pending        7 a/x failed at +12m
func (x *fixture) mixedJobs() []*storage.Job {
	x.t.Helper()
	specs := []struct{ queue, kind string }{
		{"a", "x"}, {"a", "y"}, {"b", "x"}, {"b", "y"}, {"a", "x"}, {"a", "y"}, {"b", "x"}, {"a", "x"}, {"b", "y"}, {"b", "x"},
	}
	var ids []int64
	for i, sp := range specs {
		p := job(sp.queue, sp.kind)
		p.Now = at(time.Duration(i) * time.Minute)
		switch i {
		case 1:
			p.UniqueKey = "key-1"
		case 2:
			p.RunAfter = at(time.Hour)
		}
		// Priority puts the jobs to claim below first in claim order.
		if i >= 4 {
			p.Priority = -1
		}
		ids = append(ids, x.insert(p).ID)
	}
	claim := func(queue, kind string) *storage.Job {
		j := x.claimOne(at(9*time.Minute), queue, kind)
		return j
	}
	finish := func(i int, queue, kind string, o storage.Outcome, d time.Duration) {
		j := claim(queue, kind)
		if j.ID != ids[i] {
			x.t.Fatalf("claimed job %d, want %d", j.ID, ids[i])
		}
		x.finishOne(at(d), storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: o, ErrorMessage: "boom", ErrorCode: "error"}, true)
	}
	finish(4, "a", "x", storage.OutcomeComplete, 10*time.Minute)
	finish(5, "a", "y", storage.OutcomeComplete, 11*time.Minute)
	if j := claim("b", "x"); j.ID != ids[6] {
		x.t.Fatalf("claimed job %d, want %d", j.ID, ids[6])
	}
	finish(7, "a", "x", storage.OutcomeFail, 12*time.Minute)
	finish(8, "b", "y", storage.OutcomeFail, 12*time.Minute)
	finish(9, "b", "x", storage.OutcomeAbort, 13*time.Minute)
	out := make([]*storage.Job, len(ids))
	for i, id := range ids {
		out[i] = x.get(id)
	}
	return out
}

// pick returns the ids of js at the indexes is.
func pick(js []*storage.Job, is ...int) []int64 {
	out := make([]int64, len(is))
	for k, i := range is {
		out[k] = js[i].ID
	}
	return out
}

func testQuery(t *testing.T, f factory) {
	f.run(t, "Filters", func(t *testing.T, x *fixture) {
		js := x.mixedJobs()
		for _, tc := range []struct {
			name   string
			filter storage.JobFilter
			want   []int // indexes into js, oldest first
		}{
			{"none", storage.JobFilter{}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
			{"state", storage.JobFilter{States: []storage.State{storage.StatePending}}, []int{0, 1, 2, 3}},
			{"states", storage.JobFilter{States: []storage.State{storage.StateFailed, storage.StateAborted}}, []int{7, 8, 9}},
			{"kind", storage.JobFilter{Kinds: []string{"y"}}, []int{1, 3, 5, 8}},
			{"queue", storage.JobFilter{Queues: []string{"b"}}, []int{2, 3, 6, 8, 9}},
			{"queues", storage.JobFilter{Queues: []string{"a", "b"}}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
			{"queue and state", storage.JobFilter{Queues: []string{"a"}, States: []storage.State{storage.StateFailed}}, []int{7}},
			{"queue and kind", storage.JobFilter{Queues: []string{"b"}, Kinds: []string{"x"}}, []int{2, 6, 9}},
			{"ids", storage.JobFilter{IDs: pick(js, 9, 0, 5)}, []int{0, 5, 9}},
			{"ids and state", storage.JobFilter{IDs: pick(js, 0, 5), States: []storage.State{storage.StateCompleted}}, []int{5}},
			{"unique key", storage.JobFilter{UniqueKey: "key-1"}, []int{1}},
			{"created after", storage.JobFilter{CreatedAfter: at(7 * time.Minute)}, []int{7, 8, 9}},
			{"created before", storage.JobFilter{CreatedBefore: at(2 * time.Minute)}, []int{0, 1}},
			{"created range", storage.JobFilter{CreatedAfter: at(3 * time.Minute), CreatedBefore: at(5 * time.Minute)}, []int{3, 4}},
			{"finished after", storage.JobFilter{FinishedAfter: at(12 * time.Minute)}, []int{7, 8, 9}},
			{"finished before", storage.JobFilter{FinishedBefore: at(12 * time.Minute)}, []int{4, 5}},
			{"finished range and kind", storage.JobFilter{FinishedAfter: at(11 * time.Minute), FinishedBefore: at(13 * time.Minute), Kinds: []string{"x"}}, []int{7}},
			{"unknown queue", storage.JobFilter{Queues: []string{"nope"}}, nil},
			{"unknown kind", storage.JobFilter{Kinds: []string{"nope"}}, nil},
			{"unknown id", storage.JobFilter{IDs: []int64{js[9].ID + 100}}, nil},
		} {
			want := pick(js, tc.want...)
			if got := x.walk(storage.JobQueryParams{Filter: tc.filter, Order: storage.OrderOldest}); !slices.Equal(got, want) {
				t.Errorf("%s, oldest first: ids %v, want %v", tc.name, got, want)
			}
			slices.Reverse(want)
			if got := x.walk(storage.JobQueryParams{Filter: tc.filter, Limit: 2}); !slices.Equal(got, want) {
				t.Errorf("%s, newest first in pages of 2: ids %v, want %v", tc.name, got, want)
			}
		}
		// The jobs come back whole.
		res := x.query(&storage.JobQueryParams{Filter: storage.JobFilter{IDs: pick(js, 7)}})
		if len(res.Jobs) != 1 {
			t.Fatalf("query of one id returned %d jobs", len(res.Jobs))
		}
		checkJob(t, "JobQuery", res.Jobs[0], js[7])
	})

	f.run(t, "Pages", func(t *testing.T, x *fixture) {
		var all []int64
		for range 7 {
			all = append(all, x.insert(job("q", "k")).ID)
		}
		// A page that ends exactly at the last job says so.
		res := x.query(&storage.JobQueryParams{Order: storage.OrderOldest, Limit: 7})
		if len(res.Jobs) != 7 || res.Next != "" {
			t.Errorf("a page of all 7 jobs: %d jobs, next %q; want 7 and no next page", len(res.Jobs), res.Next)
		}
		res = x.query(&storage.JobQueryParams{Order: storage.OrderOldest, Limit: 3})
		if got := jobIDs(res.Jobs); !slices.Equal(got, all[:3]) || res.Next == "" {
			t.Fatalf("first page: ids %v, next %q; want %v and a next page", got, res.Next, all[:3])
		}
		// Inserts and deletes between pages: the next page starts after the
		// last job seen, whether or not that job is still there.
		x.insert(job("q", "k"))
		x.mustDelete(&storage.JobDeleteParams{JobBatch: storage.JobBatch{Filter: storage.JobFilter{IDs: []int64{all[2], all[4]}}}, Pending: true}, 2)
		next := x.query(&storage.JobQueryParams{Order: storage.OrderOldest, Limit: 3, Cursor: res.Next})
		if got, want := jobIDs(next.Jobs), []int64{all[3], all[5], all[6]}; !slices.Equal(got, want) {
			t.Errorf("second page after changes: ids %v, want %v", got, want)
		}
		// Newest first: jobs inserted after the first page are not met.
		res = x.query(&storage.JobQueryParams{Limit: 2})
		newer := x.insert(job("q", "k"))
		rest := x.walk(storage.JobQueryParams{Limit: 2, Cursor: res.Next})
		if slices.Contains(rest, newer.ID) || slices.ContainsFunc(rest, func(id int64) bool { return slices.Contains(jobIDs(res.Jobs), id) }) {
			t.Errorf("newest first: later pages %v repeat the first %v or hold the newer job %d", rest, jobIDs(res.Jobs), newer.ID)
		}
	})

	f.run(t, "DefaultLimit", func(t *testing.T, x *fixture) {
		ps := make([]*storage.JobInsertParams, 150)
		for i := range ps {
			ps[i] = job("q", "k")
		}
		if _, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base}); err != nil {
			t.Fatal(err)
		}
		res := x.query(&storage.JobQueryParams{})
		if len(res.Jobs) != 100 || res.Next == "" {
			t.Errorf("default page: %d jobs, next %q; want 100 and a next page", len(res.Jobs), res.Next)
		}
		if !slices.IsSortedFunc(res.Jobs, func(a, b *storage.Job) int { return int(b.ID - a.ID) }) {
			t.Errorf("default order is not newest first: %v", jobIDs(res.Jobs))
		}
	})

	f.run(t, "BadInput", func(t *testing.T, x *fixture) {
		x.insert(job("q", "k"))
		x.insert(job("q", "k"))
		page := x.query(&storage.JobQueryParams{Limit: 1})
		for _, tc := range []struct {
			name string
			p    storage.JobQueryParams
			want error
		}{
			{"unknown state", storage.JobQueryParams{Filter: storage.JobFilter{States: []storage.State{"done"}}}, storage.ErrUnknownState},
			{"garbage cursor", storage.JobQueryParams{Cursor: "not a cursor"}, storage.ErrInvalidCursor},
			{"truncated cursor", storage.JobQueryParams{Cursor: page.Next[:6]}, storage.ErrInvalidCursor},
			{"cursor of the other order", storage.JobQueryParams{Order: storage.OrderOldest, Cursor: page.Next}, storage.ErrInvalidCursor},
		} {
			if _, err := x.s.JobQuery(x.ctx, &tc.p); !errors.Is(err, tc.want) {
				t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
			}
		}
	})
}

func testCount(t *testing.T, f factory) {
	f.run(t, "Groups", func(t *testing.T, x *fixture) {
		x.mixedJobs()
		res, err := x.s.JobCount(x.ctx, &storage.JobCountParams{Now: at(30 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		g := func(name string, st storage.State, n int64) storage.GroupCount {
			return storage.GroupCount{Name: name, State: st, Count: n}
		}
		const (
			pend = storage.StatePending
			run  = storage.StateRunning
			done = storage.StateCompleted
			fail = storage.StateFailed
			abrt = storage.StateAborted
		)
		wantQueues := []storage.GroupCount{g("a", abrt, 0), g("a", done, 2), g("a", fail, 1), g("a", pend, 2),
			g("b", abrt, 1), g("b", fail, 1), g("b", pend, 2), g("b", run, 1)}
		wantQueues = slices.DeleteFunc(wantQueues, func(c storage.GroupCount) bool { return c.Count == 0 })
		wantKinds := []storage.GroupCount{g("x", abrt, 1), g("x", done, 1), g("x", fail, 1), g("x", pend, 2), g("x", run, 1),
			g("y", done, 1), g("y", fail, 1), g("y", pend, 2)}
		if d := cmp.Diff(wantQueues, res.Queues); d != "" {
			t.Errorf("counts by queue (-want +got):\n%s", d)
		}
		if d := cmp.Diff(wantKinds, res.Kinds); d != "" {
			t.Errorf("counts by kind (-want +got):\n%s", d)
		}
		// Ready pending jobs only: b's deferred job (due at +1h) is not ready.
		wantReady := []storage.QueueAge{{Queue: "a", OldestReady: at(0)}, {Queue: "b", OldestReady: at(3 * time.Minute)}}
		if d := cmp.Diff(wantReady, res.Ready, cmp.Comparer(sameTime)); d != "" {
			t.Errorf("oldest ready per queue (-want +got):\n%s", d)
		}
		checkTime(t, "JobCount Now", res.Now, at(30*time.Minute))
	})

	f.run(t, "Limit", func(t *testing.T, x *fixture) {
		// Past storage.CountLimit a group's count in a state may stop there
		// (AtLeast), except a queue's pending and running counts.
		const n = storage.CountLimit + 1
		ps := make([]*storage.JobInsertParams, 2*n)
		for i := range ps {
			ps[i] = job("big", "x")
			if i >= n {
				ps[i].Queue = "done"
			}
		}
		if _, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base}); err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		for b := (storage.JobBatch{Filter: storage.JobFilter{Queues: []string{"done"}}, Now: at(time.Minute)}); ; {
			res, err := x.s.JobAbortMany(x.ctx, &storage.JobAbortManyParams{JobBatch: b})
			if err != nil {
				t.Fatalf("JobAbortMany: %v", err)
			}
			if b.AfterID = res.Next; b.AfterID == 0 {
				break
			}
		}
		res, err := x.s.JobCount(x.ctx, &storage.JobCountParams{Now: at(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		exact := func(name string, st storage.State) storage.GroupCount {
			return storage.GroupCount{Name: name, State: st, Count: n}
		}
		if len(res.Queues) != 2 || len(res.Kinds) != 2 {
			t.Fatalf("counts: %+v, want two of queues and two of kinds", res)
		}
		if d := cmp.Diff([]storage.GroupCount{exact("big", storage.StatePending)}, res.Queues[:1]); d != "" {
			t.Errorf("pending count of a queue (-want +got):\n%s", d)
		}
		check := func(what string, got []storage.GroupCount, want storage.GroupCount) {
			t.Helper()
			capped := want
			capped.Count, capped.AtLeast = storage.CountLimit, true
			if !slices.Contains(got, want) && !slices.Contains(got, capped) {
				t.Errorf("%s: %+v, want %+v or %+v", what, got, want, capped)
			}
		}
		check("aborted count of a queue", res.Queues, exact("done", storage.StateAborted))
		check("aborted count of a kind", res.Kinds, exact("x", storage.StateAborted))
		check("pending count of a kind", res.Kinds, exact("x", storage.StatePending))
	})

	f.run(t, "Empty", func(t *testing.T, x *fixture) {
		res, err := x.s.JobCount(x.ctx, &storage.JobCountParams{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Queues)+len(res.Kinds)+len(res.Ready) != 0 || res.Now.IsZero() {
			t.Errorf("counts of an empty store: %+v", res)
		}
	})
}
