package memory_test

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestManyJobs runs more jobs than the conformance suite does, through
// every index's growth and shrinking: claim order over thousands of jobs,
// then listing and deleting across many pages of IDs.
func TestManyJobs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := memory.New()
	defer s.Close()
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r := rand.New(rand.NewPCG(7, 8))
	const n = 5000
	type key struct {
		prio int
		at   time.Time
		id   int64
	}
	var want []key
	for i := range n {
		p := &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, Now: base.Add(time.Duration(i) * time.Millisecond)}
		if r.IntN(10) == 0 {
			p.Priority = r.IntN(5) - 2
		}
		if r.IntN(10) == 0 {
			p.RunAfter = base.Add(time.Duration(r.IntN(n)) * time.Millisecond)
		}
		res, err := s.JobInsert(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, key{res.Job.Priority, res.Job.RunAfter, res.Job.ID})
	}
	slices.SortFunc(want, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.prio, b.prio), a.at.Compare(b.at), cmp.Compare(a.id, b.id))
	})
	end := base.Add(time.Hour)
	var got []int64 // claimed ids
	for len(got) < n {
		res, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 7, LeaseDuration: time.Hour, Now: end})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			t.Fatalf("claimed %d of %d jobs, then nothing", len(got), n)
		}
		fin := &storage.JobFinishParams{Now: end}
		for _, j := range res.Jobs {
			got = append(got, j.ID)
			// Drop every job but each tenth.
			fin.Jobs = append(fin.Jobs, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Delete: j.ID%10 != 0})
		}
		if _, err := s.JobFinish(ctx, fin); err != nil {
			t.Fatal(err)
		}
	}
	for i := range want {
		if got[i] != want[i].id {
			t.Fatalf("claim %d got job %d, want %+v", i, got[i], want[i])
		}
	}

	var listed []int64
	for after := int64(0); ; {
		js, err := s.JobList(ctx, &storage.JobListParams{AfterID: after, Limit: 33})
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 0 {
			break
		}
		for _, j := range js {
			listed = append(listed, j.ID)
		}
		after = js[len(js)-1].ID
	}
	if len(listed) != n/10 || !slices.IsSorted(listed) {
		t.Fatalf("listed %d jobs (sorted: %v), want %d in order", len(listed), slices.IsSorted(listed), n/10)
	}
	for _, id := range listed {
		if id%10 != 0 {
			t.Fatalf("listed deleted job %d", id)
		}
	}
	deleted, err := s.JobDeleteFinished(ctx, &storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: end.Add(time.Second), Limit: n})
	if err != nil || deleted != n/10 {
		t.Fatalf("JobDeleteFinished = %d, %v; want %d", deleted, err, n/10)
	}
	if js, err := s.JobList(ctx, &storage.JobListParams{}); err != nil || len(js) != 0 {
		t.Fatalf("JobList of an emptied store = %d jobs, %v", len(js), err)
	}
}
