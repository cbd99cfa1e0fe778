package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// windowed returns insert params for a job of kind holding key for window
// after its creation, inserted at now.
func windowed(kind, key string, window time.Duration, now time.Time) *storage.JobInsertParams {
	p := keyed("q", kind, key)
	p.UniqueFor = window
	p.Now = now
	return p
}

// testUniqueWindow states unique windows (JobInsertParams.UniqueFor): a
// key holds for the window after a job holding it was created, whatever
// that job's state, and after it a new job is inserted; without a window
// only active jobs hold keys, as testUnique states.
func testUniqueWindow(t *testing.T, f factory) {
	const hour = time.Hour

	f.run(t, "FinishedInsideWindow", func(t *testing.T, x *fixture) {
		x.insert(windowed("k", "a", hour, base))
		j := x.claimOne(base, "q", "k")
		x.complete(at(time.Minute), j.ID, j.LeaseToken)
		holder := x.get(j.ID)
		x.wantDuplicate(windowed("k", "a", hour, at(30*time.Minute)), holder)
		x.wantDuplicate(windowed("k", "a", hour, at(hour-time.Microsecond)), holder)
		// Without a window the finished job holds nothing.
		x.insert(keyed("q", "k", "a"))
	})

	f.run(t, "AfterWindow", func(t *testing.T, x *fixture) {
		x.insert(windowed("k", "a", hour, base))
		j := x.claimOne(base, "q", "k")
		x.complete(base, j.ID, j.LeaseToken)
		next := x.insert(windowed("k", "a", hour, at(hour)))
		// The new job starts a window of its own.
		x.wantDuplicate(windowed("k", "a", hour, at(90*time.Minute)), next)
		// A shorter window at submit looks back less far.
		next = x.claimOne(at(90*time.Minute), "q", "k")
		x.complete(at(90*time.Minute), next.ID, next.LeaseToken)
		x.insert(windowed("k", "a", 10*time.Minute, at(90*time.Minute)))
	})

	f.run(t, "EveryState", func(t *testing.T, x *fixture) {
		// Failed, aborted while pending, and still pending past the window.
		p := windowed("k", "failed", hour, base)
		x.insert(p)
		j := x.claimOne(base, "q", "k")
		x.finishOne(base, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeFail}, true)
		x.wantDuplicate(windowed("k", "failed", hour, at(time.Minute)), x.get(j.ID))

		a := x.insert(windowed("k", "aborted", hour, base))
		x.abort(base, a.ID)
		x.wantDuplicate(windowed("k", "aborted", hour, at(time.Minute)), x.get(a.ID))

		pending := windowed("k", "pending", hour, base)
		pending.RunAfter = at(3 * hour)
		held := x.insert(pending)
		x.wantDuplicate(windowed("k", "pending", hour, at(2*hour)), held)
	})

	f.run(t, "Newest", func(t *testing.T, x *fixture) {
		old := x.insert(windowed("k", "a", hour, base))
		x.abort(base, old.ID)
		newer := x.insert(windowed("k", "a", hour, at(2*hour)))
		x.abort(at(2*hour), newer.ID)
		x.wantDuplicate(windowed("k", "a", 3*hour, at(150*time.Minute)), x.get(newer.ID))
	})

	f.run(t, "PerKind", func(t *testing.T, x *fixture) {
		a := x.insert(windowed("k", "a", hour, base))
		x.abort(base, a.ID)
		x.insert(windowed("other", "a", hour, at(time.Minute)))
		x.insert(windowed("k", "b", hour, at(time.Minute)))
	})

	f.run(t, "Many", func(t *testing.T, x *fixture) {
		a := x.insert(windowed("k", "a", hour, base))
		x.abort(base, a.ID)
		ps := []*storage.JobInsertParams{
			windowed("k", "a", hour, at(time.Minute)),
			windowed("k", "b", hour, at(time.Minute)),
			windowed("k", "b", hour, at(time.Minute)),
			keyed("q", "k", "a"),
		}
		res, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: at(time.Minute)})
		if err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		wantDup := []bool{true, false, true, false}
		for i, r := range res {
			if r.Duplicate != wantDup[i] {
				t.Errorf("result %d: Duplicate = %v, want %v", i, r.Duplicate, wantDup[i])
			}
		}
		if res[0].Job.ID != a.ID {
			t.Errorf("result 0: ID %d, want the aborted holder %d", res[0].Job.ID, a.ID)
		}
		if res[2].Job.ID != res[1].Job.ID {
			t.Errorf("result 2: ID %d, want the batch's holder %d", res[2].Job.ID, res[1].Job.ID)
		}
	})

	f.run(t, "NegativeRefused", func(t *testing.T, x *fixture) {
		if _, err := x.s.JobInsert(x.ctx, windowed("k", "a", -time.Second, base)); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("JobInsert with a negative window: %v, want ErrInvalid", err)
		}
	})
}
