package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// keyed returns insert params for a job of kind holding key.
func keyed(queue, kind, key string) *storage.JobInsertParams {
	p := job(queue, kind)
	p.UniqueKey = key
	return p
}

// wantDuplicate inserts p and checks that it returned the active job
// holding the key, inserting nothing.
func (x *fixture) wantDuplicate(p *storage.JobInsertParams, holder *storage.Job) {
	x.t.Helper()
	before := x.count()
	res, err := x.s.JobInsert(x.ctx, p)
	if err != nil {
		x.t.Fatalf("JobInsert(kind %q, key %q): %v", p.Kind, p.UniqueKey, err)
	}
	if !res.Duplicate || res.Job == nil || res.Job.ID != holder.ID {
		x.t.Fatalf("JobInsert(kind %q, key %q) = job %v, Duplicate %v; want the holder %d with Duplicate", p.Kind, p.UniqueKey, jobIDs([]*storage.Job{res.Job}), res.Duplicate, holder.ID)
	}
	checkJob(x.t, "duplicate JobInsert", res.Job, x.get(holder.ID))
	if after := x.count(); after != before {
		x.t.Errorf("a duplicate insert changed the job count from %d to %d", before, after)
	}
}

func testUnique(t *testing.T, f factory) {
	f.run(t, "Pending", func(t *testing.T, x *fixture) {
		holder := x.insert(keyed("q", "k", "a"))
		dup := keyed("q", "k", "a")
		dup.Input = []byte(`{"n":2}`)
		dup.Priority = 7
		x.wantDuplicate(dup, holder)
		// Keys are per kind, whatever the queue.
		x.wantDuplicate(keyed("elsewhere", "k", "a"), holder)
		p := keyed("q", "k", "a")
		p.RunAfter = at(time.Hour)
		x.wantDuplicate(p, holder)
		x.want(holder)
	})

	f.run(t, "Deferred", func(t *testing.T, x *fixture) {
		p := keyed("q", "k", "a")
		p.RunAfter = at(time.Hour)
		x.wantDuplicate(keyed("q", "k", "a"), x.insert(p))
	})

	f.run(t, "Running", func(t *testing.T, x *fixture) {
		x.insert(keyed("q", "k", "a"))
		holder := x.claimOne(base, "q", "k")
		x.wantDuplicate(keyed("q", "k", "a"), holder)
	})

	f.run(t, "RetryKeeps", func(t *testing.T, x *fixture) {
		x.insert(keyed("q", "k", "a"))
		j := x.claimOne(base, "q", "k")
		x.finishOne(base, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeRetry, RetryDelay: time.Minute}, true)
		x.wantDuplicate(keyed("q", "k", "a"), j)
		j = x.claimOne(at(time.Minute), "q", "k")
		x.finishOne(at(time.Minute), storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeRelease}, true)
		x.wantDuplicate(keyed("q", "k", "a"), j)
	})

	f.run(t, "OtherKind", func(t *testing.T, x *fixture) {
		a := x.insert(keyed("q", "k", "a"))
		b := x.insert(keyed("q", "other", "a"))
		if a.ID == b.ID {
			t.Errorf("jobs of two kinds with one key share ID %d", a.ID)
		}
		x.insert(keyed("q", "k", "b"))
	})

	f.run(t, "EmptyKey", func(t *testing.T, x *fixture) {
		x.insert(job("q", "k"))
		x.insert(job("q", "k"))
		if n := x.count(); n != 2 {
			t.Errorf("two inserts without a key stored %d jobs, want 2", n)
		}
	})

	f.run(t, "FreedWhenFinished", func(t *testing.T, x *fixture) {
		// Every way to a terminal state frees the key.
		finishes := []storage.Outcome{storage.OutcomeComplete, storage.OutcomeFail, storage.OutcomeAbort}
		for i, o := range finishes {
			queue, key := fmt.Sprint("q", i), fmt.Sprint("key", i)
			x.insert(keyed(queue, "k", key))
			j := x.claimOne(base, queue, "k")
			x.finishOne(base, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: o}, true)
			if again := x.insert(keyed(queue, "k", key)); again.ID == j.ID {
				t.Errorf("outcome %d: the new job has the old ID %d", o, j.ID)
			}
		}

		// Aborted while pending.
		j := x.insert(keyed("p", "k", "pending"))
		x.abort(base, j.ID)
		x.insert(keyed("p", "k", "pending"))

		// Failed when its last lease expired.
		p := keyed("e", "k", "expired")
		p.MaxAttempts = 1
		x.insert(p)
		x.claimOne(base, "e", "k")
		x.claimNone(at(2*lease), "e", "k")
		x.insert(keyed("e", "k", "expired"))

		// Deleted on finish.
		x.insert(keyed("d", "k", "deleted"))
		j = x.claimOne(base, "d", "k")
		x.finishOne(base, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Delete: true}, true)
		x.insert(keyed("d", "k", "deleted"))
	})

	f.run(t, "Many", func(t *testing.T, x *fixture) {
		// JobInsertMany checks keys against stored jobs and earlier entries
		// of the same batch.
		held := x.insert(keyed("q", "k", "a"))
		ps := []*storage.JobInsertParams{
			keyed("q", "k", "a"),
			keyed("q", "k", "b"),
			keyed("q", "k", "b"),
			keyed("q", "other", "b"),
			job("q", "k"),
			job("q", "k"),
		}
		res, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base})
		if err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		if len(res) != len(ps) {
			t.Fatalf("JobInsertMany of %d jobs returned %d results", len(ps), len(res))
		}
		wantDup := []bool{true, false, true, false, false, false}
		for i, r := range res {
			if r.Duplicate != wantDup[i] {
				t.Errorf("result %d: Duplicate = %v, want %v", i, r.Duplicate, wantDup[i])
			}
		}
		if res[0].Job.ID != held.ID {
			t.Errorf("result 0: ID %d, want the stored holder %d", res[0].Job.ID, held.ID)
		}
		if res[2].Job.ID != res[1].Job.ID {
			t.Errorf("result 2: ID %d, want the batch's holder %d", res[2].Job.ID, res[1].Job.ID)
		}
		if n := x.count(); n != 5 {
			t.Errorf("store holds %d jobs, want 5", n)
		}
	})
}
