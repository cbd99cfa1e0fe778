package storagetest

import (
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func testDefer(t *testing.T, f factory) {
	f.run(t, "NotEarly", func(t *testing.T, x *fixture) {
		p := job("q", "k")
		p.RunAfter = at(time.Hour)
		j := x.insert(p)
		for _, now := range []time.Time{base, at(time.Hour - time.Microsecond)} {
			res := x.claimNone(now, "q", "k")
			checkTime(t, "NextRunAfter", res.NextRunAfter, at(time.Hour))
			checkTime(t, "JobClaimResult.Now", res.Now, now)
		}
		x.want(j)
		got := x.claimOne(at(time.Hour), "q", "k")
		if got.ID != j.ID || got.Attempt != 1 {
			t.Errorf("claimed job %d attempt %d, want job %d attempt 1", got.ID, got.Attempt, j.ID)
		}
	})

	f.run(t, "NextRunAfter", func(t *testing.T, x *fixture) {
		// The earliest future RunAfter of the claim's queue and kinds, also
		// when the claim returned jobs; other queues and kinds don't count.
		deferred := func(queue, kind string, d time.Duration) *storage.Job {
			p := job(queue, kind)
			p.RunAfter = at(d)
			return x.insert(p)
		}
		ready := x.insert(job("q", "k"))
		deferred("q", "k", 3*time.Hour)
		one := deferred("q", "k", time.Hour)
		deferred("q", "k", 2*time.Hour)
		deferred("q", "other", 10*time.Minute)
		deferred("elsewhere", "k", 5*time.Minute)

		res := x.claimAt(base, 10, "q", "k")
		if got := ids(res.Jobs); len(got) != 1 || got[0] != ready.ID {
			t.Fatalf("claimed ids %v, want [%d]", got, ready.ID)
		}
		checkTime(t, "NextRunAfter with jobs claimed", res.NextRunAfter, at(time.Hour))
		x.complete(base, res.Jobs[0].ID, res.Jobs[0].LeaseToken)

		res = x.claimNone(at(time.Second), "q", "k", "other")
		checkTime(t, "NextRunAfter over two kinds", res.NextRunAfter, at(10*time.Minute))

		res = x.claimAt(at(time.Hour), 10, "q", "k")
		if got := ids(res.Jobs); len(got) != 1 || got[0] != one.ID {
			t.Fatalf("claimed ids %v at the first RunAfter, want [%d]", got, one.ID)
		}
		checkTime(t, "NextRunAfter after the first deferred job ran", res.NextRunAfter, at(2*time.Hour))
		x.complete(at(time.Hour), res.Jobs[0].ID, res.Jobs[0].LeaseToken)

		res = x.claimAt(at(5*time.Hour), 10, "q", "k")
		if len(res.Jobs) != 2 {
			t.Fatalf("claimed %d jobs after every RunAfter passed, want 2", len(res.Jobs))
		}
		if !res.NextRunAfter.IsZero() {
			t.Errorf("NextRunAfter with no deferred job left = %v, want zero", res.NextRunAfter)
		}
	})

	f.run(t, "NoneDeferred", func(t *testing.T, x *fixture) {
		x.insert(job("q", "k"))
		x.insert(job("q", "k"))
		res := x.claimAt(base, 1, "q", "k")
		if len(res.Jobs) != 1 {
			t.Fatalf("claimed %d jobs, want 1", len(res.Jobs))
		}
		if !res.NextRunAfter.IsZero() {
			t.Errorf("NextRunAfter with only ready jobs = %v, want zero", res.NextRunAfter)
		}
	})

	f.run(t, "PriorityWhenDue", func(t *testing.T, x *fixture) {
		// A deferred job that has come due competes on priority.
		ready := x.insert(job("q", "k"))
		p := job("q", "k")
		p.Priority = -1
		p.RunAfter = at(time.Minute)
		urgent := x.insert(p)
		if got := x.claimOne(at(time.Minute), "q", "k"); got.ID != urgent.ID {
			t.Errorf("claimed job %d first, want the due job %d with the smaller priority (other: %d)", got.ID, urgent.ID, ready.ID)
		}
	})
}
