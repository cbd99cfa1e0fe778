package storagetest

import (
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
)

// testInsertClaim covers storage.InsertClaimer on backends that have it.
func testInsertClaim(t *testing.T, f factory) {
	// insertClaim inserts p and claims with c in one call.
	insertClaim := func(x *fixture, p *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult) {
		x.t.Helper()
		ic, ok := x.s.(storage.InsertClaimer)
		if !ok {
			x.t.Skip("the backend does not implement storage.InsertClaimer")
		}
		ins, cl, err := ic.JobInsertClaim(x.ctx, p, c)
		if err != nil {
			x.t.Fatalf("JobInsertClaim: %v", err)
		}
		for _, c := range cl.Jobs {
			x.checkClaimed("JobInsertClaim", c)
		}
		return ins, cl
	}

	f.run(t, "IdleQueue", func(t *testing.T, x *fixture) {
		// Nothing ahead: the claim takes the new job, as a claim after the
		// insert would.
		ins, cl := insertClaim(x, job("q", "k"), claimParams(base, 1, "q", "k"))
		if ins.Duplicate || ins.Job.State != storage.StatePending {
			t.Fatalf("inserted %+v (duplicate %v), want a new pending job", ins.Job, ins.Duplicate)
		}
		if len(cl.Jobs) != 1 || cl.Jobs[0].ID != ins.Job.ID {
			t.Fatalf("claimed %v, want the new job %d", ids(cl.Jobs), ins.Job.ID)
		}
		got := cl.Jobs[0]
		if got.Attempt != 1 {
			t.Errorf("claimed job: attempt %d, want 1", got.Attempt)
		}
		checkTime(t, "lease expiry", got.LeaseExpiresAt, base.Add(lease))
		checkTime(t, "claim clock", cl.Now, base)
		x.wantState(ins.Job.ID, storage.StateRunning)
	})

	f.run(t, "ClaimOrder", func(t *testing.T, x *fixture) {
		// A ready job ahead of the new one in claim order is claimed
		// instead; the new one stays pending for the next claim.
		ahead := job("q", "k")
		ahead.Priority = -1
		first := x.insert(ahead)
		ins, cl := insertClaim(x, job("q", "k"), claimParams(base, 1, "q", "k"))
		if len(cl.Jobs) != 1 || cl.Jobs[0].ID != first.ID {
			t.Fatalf("claimed %v, want job %d, which is ahead", ids(cl.Jobs), first.ID)
		}
		x.wantState(ins.Job.ID, storage.StatePending)
		if j := x.claimOne(base, "q", "k"); j.ID != ins.Job.ID {
			t.Errorf("next claim took job %d, want %d", j.ID, ins.Job.ID)
		}
	})

	f.run(t, "FillsRemainingSlots", func(t *testing.T, x *fixture) {
		// With more slots than the new job, the claim also takes the
		// jobs behind it, in claim order.
		behind := job("q", "k")
		behind.Priority = 5
		other := x.insert(behind)
		ins, cl := insertClaim(x, job("q", "k"), claimParams(base, 3, "q", "k"))
		if got, want := ids(cl.Jobs), []int64{ins.Job.ID, other.ID}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("claimed %v, want %v", got, want)
		}
		x.wantState(other.ID, storage.StateRunning)
	})

	f.run(t, "ExpiredLeaseAhead", func(t *testing.T, x *fixture) {
		// A running job whose lease expired is rescued first when it is
		// ahead of the new job.
		old := x.insert(job("q", "k"))
		x.claimOne(base, "q", "k")
		later := at(2 * lease)
		p := job("q", "k")
		p.Now = later
		ins, cl := insertClaim(x, p, claimParams(later, 1, "q", "k"))
		if len(cl.Jobs) != 1 || cl.Jobs[0].ID != old.ID || cl.Jobs[0].Attempt != 2 {
			t.Fatalf("claimed %v, want the rescued job %d at attempt 2", ids(cl.Jobs), old.ID)
		}
		x.wantState(ins.Job.ID, storage.StatePending)
	})

	f.run(t, "OtherQueueOrKind", func(t *testing.T, x *fixture) {
		// The claim is filtered like JobClaim: a job of another queue or
		// kind is inserted but not claimed.
		_, cl := insertClaim(x, job("other", "k"), claimParams(base, 5, "q", "k"))
		if len(cl.Jobs) != 0 {
			t.Errorf("claimed %v from queue q, want nothing", ids(cl.Jobs))
		}
		ins, cl := insertClaim(x, job("q", "x"), claimParams(base, 5, "q", "k"))
		if len(cl.Jobs) != 0 {
			t.Errorf("claimed %v of kind k, want nothing", ids(cl.Jobs))
		}
		x.wantState(ins.Job.ID, storage.StatePending)
	})

	f.run(t, "Duplicate", func(t *testing.T, x *fixture) {
		// A unique key held by an active job returns the holder, as
		// JobInsert does, and inserts nothing.
		p := job("q", "k")
		p.UniqueKey = "key"
		holder := x.insert(p)
		before := x.count()
		ins, _ := insertClaim(x, p, claimParams(base, 1, "q", "k"))
		if !ins.Duplicate || ins.Job.ID != holder.ID {
			t.Errorf("insert of a held key: job %d, duplicate %v; want holder %d, duplicate", ins.Job.ID, ins.Duplicate, holder.ID)
		}
		if n := x.count(); n != before {
			t.Errorf("%d jobs stored, want %d", n, before)
		}
	})

	f.run(t, "Deferred", func(t *testing.T, x *fixture) {
		// A job deferred past the claim's clock is inserted, not claimed,
		// and the claim reports when it is due.
		p := job("q", "k")
		p.RunAfter = at(lease)
		ins, cl := insertClaim(x, p, claimParams(base, 1, "q", "k"))
		if len(cl.Jobs) != 0 {
			t.Fatalf("claimed %v, want nothing before the job is due", ids(cl.Jobs))
		}
		checkTime(t, "next run_after", cl.NextRunAfter, at(lease))
		x.wantState(ins.Job.ID, storage.StatePending)
	})
}
