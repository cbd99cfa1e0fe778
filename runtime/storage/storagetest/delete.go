package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// finishAt inserts a job of queue "q", kind "k", claims it and finishes it
// with o at now.
func (x *fixture) finishAt(now time.Time, o storage.Outcome) *storage.Job {
	x.t.Helper()
	x.insert(job("q", "k"))
	j := x.claimOne(now, "q", "k")
	x.finishOne(now, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: o}, true)
	return j
}

// deleteFinished deletes with p and returns the count.
func (x *fixture) deleteFinished(p *storage.JobDeleteFinishedParams) int {
	x.t.Helper()
	n, err := x.s.JobDeleteFinished(x.ctx, p)
	if err != nil {
		x.t.Fatalf("JobDeleteFinished(%s before %v): %v", p.State, p.FinishedBefore, err)
	}
	return n
}

func testDelete(t *testing.T, f factory) {
	f.run(t, "StateAndAge", func(t *testing.T, x *fixture) {
		c1 := x.finishAt(at(1*time.Minute), storage.OutcomeComplete)
		c2 := x.finishAt(at(2*time.Minute), storage.OutcomeComplete)
		c3 := x.finishAt(at(3*time.Minute), storage.OutcomeComplete)
		failed := x.finishAt(at(time.Minute), storage.OutcomeFail)
		aborted := x.finishAt(at(time.Minute), storage.OutcomeAbort)
		x.insert(job("q", "k"))
		running := x.claimOne(base, "q", "k")
		pending := x.insert(job("q", "k"))

		if n := x.deleteFinished(&storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: at(150 * time.Second)}); n != 2 {
			t.Errorf("deleted %d completed jobs, want 2", n)
		}
		x.gone(c1.ID)
		x.gone(c2.ID)
		// Strictly before: c3 finished at the cutoff.
		if n := x.deleteFinished(&storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: at(3 * time.Minute)}); n != 0 {
			t.Errorf("deleted %d jobs that finished at the cutoff, want 0", n)
		}
		for _, id := range []int64{c3.ID, failed.ID, aborted.ID, pending.ID, running.ID} {
			x.get(id)
		}
		for _, st := range []storage.State{storage.StateFailed, storage.StateAborted} {
			if n := x.deleteFinished(&storage.JobDeleteFinishedParams{State: st, FinishedBefore: at(time.Hour)}); n != 1 {
				t.Errorf("deleted %d %s jobs, want 1", n, st)
			}
		}
		x.gone(failed.ID)
		x.gone(aborted.ID)
		x.wantState(pending.ID, storage.StatePending)
		x.wantState(running.ID, storage.StateRunning)
	})

	f.run(t, "Limit", func(t *testing.T, x *fixture) {
		for i := range 5 {
			x.finishAt(at(time.Duration(i)*time.Second), storage.OutcomeComplete)
		}
		for i, want := range []int{2, 2, 1, 0} {
			n := x.deleteFinished(&storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: at(time.Hour), Limit: 2})
			if n != want {
				t.Errorf("call %d with limit 2 deleted %d jobs, want %d", i, n, want)
			}
		}
		if n := x.count(); n != 0 {
			t.Errorf("%d jobs left, want 0", n)
		}
	})

	f.run(t, "Invalid", func(t *testing.T, x *fixture) {
		j := x.finishAt(base, storage.OutcomeComplete)
		for _, p := range []*storage.JobDeleteFinishedParams{
			{State: storage.StatePending, FinishedBefore: at(time.Hour)},
			{State: storage.StateRunning, FinishedBefore: at(time.Hour)},
			{State: "", FinishedBefore: at(time.Hour)},
			{State: "done", FinishedBefore: at(time.Hour)},
			{State: storage.StateCompleted, FinishedBefore: at(time.Hour), Limit: -1},
		} {
			if _, err := x.s.JobDeleteFinished(x.ctx, p); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("JobDeleteFinished(state %q, limit %d): error %v, want one matching storage.ErrInvalid", p.State, p.Limit, err)
			}
		}
		x.get(j.ID)
	})

	f.run(t, "IDsNotReused", func(t *testing.T, x *fixture) {
		// Deleting the newest job does not free its ID.
		x.insert(job("q", "k"))
		j := x.claimOne(base, "q", "k")
		x.finishOne(base, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Delete: true}, true)
		next := x.insert(job("q", "k"))
		if next.ID <= j.ID {
			t.Fatalf("after deleting job %d on finish the next insert got ID %d, want a larger one", j.ID, next.ID)
		}
		k := x.finishAt(base, storage.OutcomeComplete)
		if k.ID != next.ID {
			t.Fatalf("finished job %d, want %d", k.ID, next.ID)
		}
		x.deleteFinished(&storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: at(time.Hour)})
		if last := x.insert(job("q", "k")); last.ID <= next.ID {
			t.Fatalf("after deleting job %d the next insert got ID %d, want a larger one", next.ID, last.ID)
		}
	})
}
