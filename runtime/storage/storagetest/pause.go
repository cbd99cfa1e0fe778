package storagetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobgen/jobgen/runtime/storage"
)

func (x *fixture) pause(now time.Time, queue string) {
	x.t.Helper()
	if err := x.s.QueuePause(x.ctx, &storage.QueuePauseParams{Queue: queue, Now: now}); err != nil {
		x.t.Fatalf("QueuePause(%q): %v", queue, err)
	}
}

func (x *fixture) resume(now time.Time, queue string) {
	x.t.Helper()
	if err := x.s.QueueResume(x.ctx, &storage.QueueResumeParams{Queue: queue, Now: now}); err != nil {
		x.t.Fatalf("QueueResume(%q): %v", queue, err)
	}
}

func (x *fixture) queues() []*storage.QueueState {
	x.t.Helper()
	qs, err := x.s.QueueList(x.ctx, &storage.QueueListParams{})
	if err != nil {
		x.t.Fatalf("QueueList: %v", err)
	}
	return qs
}

func testPause(t *testing.T, f factory) {
	f.run(t, "Claim", func(t *testing.T, x *fixture) {
		x.insert(job("q", "k"))
		x.insert(job("other", "k"))
		x.pause(base, "q")
		x.claimNone(base, "q", "k")
		// Other queues are not affected, and inserts are accepted.
		x.claimOne(base, "other", "k")
		x.insert(job("q", "k"))
		x.claimNone(base, "q", "k")
		x.resume(base, "q")
		if res := x.claimAt(base, 10, "q", "k"); len(res.Jobs) != 2 {
			t.Errorf("claim after resume took %d jobs, want 2", len(res.Jobs))
		}
	})

	f.run(t, "Rescue", func(t *testing.T, x *fixture) {
		// A paused queue's expired leases are not taken over either.
		x.insert(job("q", "k"))
		held := x.claimOne(base, "q", "k")
		x.pause(base, "q")
		x.claimNone(at(2*lease), "q", "k")
		x.wantState(held.ID, storage.StateRunning)
		x.complete(at(2*lease), held.ID, held.LeaseToken)
	})

	f.run(t, "UnknownQueue", func(t *testing.T, x *fixture) {
		x.pause(base, "later")
		x.insert(job("later", "k"))
		x.claimNone(base, "later", "k")
	})

	f.run(t, "InsertClaim", func(t *testing.T, x *fixture) {
		ic, ok := x.s.(storage.InsertClaimer)
		if !ok {
			t.Skip("the backend does not implement storage.InsertClaimer")
		}
		x.pause(base, "q")
		res, claimed, err := ic.JobInsertClaim(x.ctx, job("q", "k"), claimParams(base, 1, "q", "k"))
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed.Jobs) != 0 {
			t.Errorf("insert and claim on a paused queue claimed %v", ids(claimed.Jobs))
		}
		x.wantState(res.Job.ID, storage.StatePending)
	})

	f.run(t, "List", func(t *testing.T, x *fixture) {
		if qs := x.queues(); len(qs) != 0 {
			t.Errorf("queues of a new store: %+v", qs)
		}
		x.pause(at(time.Minute), "b")
		x.pause(at(2*time.Minute), "a")
		x.pause(at(3*time.Minute), "b") // paused already: keeps its time
		x.resume(at(4*time.Minute), "a")
		x.resume(at(5*time.Minute), "never-paused")
		want := []*storage.QueueState{
			{Name: "a", UpdatedAt: at(4 * time.Minute)},
			{Name: "b", Paused: true, PausedAt: at(time.Minute), UpdatedAt: at(time.Minute)},
		}
		if d := cmp.Diff(want, x.queues(), cmp.Comparer(sameTime)); d != "" {
			t.Errorf("queues (-want +got):\n%s", d)
		}
	})
}
