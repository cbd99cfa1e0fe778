package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func testAbort(t *testing.T, f factory) {
	f.run(t, "Pending", func(t *testing.T, x *fixture) {
		ready := x.insert(job("q", "k"))
		p := job("q", "k")
		p.RunAfter = at(time.Hour)
		deferred := x.insert(p)
		now := at(time.Second)
		for _, j := range []*storage.Job{ready, deferred} {
			res := x.abort(now, j.ID)
			if res.Result != storage.AbortedNow {
				t.Errorf("abort of pending job %d: result %d, want AbortedNow", j.ID, res.Result)
			}
			want := clone(j)
			want.State = storage.StateAborted
			want.FinishedAt = now
			checkJob(t, "JobAbort", res.Job, want)
			x.want(want)
		}
		res := x.claimNone(at(2*time.Hour), "q", "k")
		if !res.NextRunAfter.IsZero() {
			t.Errorf("NextRunAfter = %v after the deferred job was aborted, want zero", res.NextRunAfter)
		}
	})

	f.run(t, "Running", func(t *testing.T, x *fixture) {
		// An abort of a running job is a request the holder finds in its
		// next heartbeat; the job keeps running until the holder finishes it.
		js := x.claimedJobs(2)
		target, bystander := js[0], js[1]
		now := at(time.Second)
		res := x.abort(now, target.ID)
		if res.Result != storage.AbortRequested {
			t.Errorf("abort of a running job: result %d, want AbortRequested", res.Result)
		}
		want := clone(target)
		want.AbortRequestedAt = now
		checkJob(t, "JobAbort", res.Job, want)
		x.want(want)

		// A second request keeps the first time.
		if res := x.abort(at(2*time.Second), target.ID); res.Result != storage.AbortRequested {
			t.Errorf("second abort of a running job: result %d, want AbortRequested", res.Result)
		}
		x.want(want)

		hb := x.heartbeat(at(3*time.Second),
			storage.Lease{ID: target.ID, Token: target.LeaseToken},
			storage.Lease{ID: bystander.ID, Token: bystander.LeaseToken})
		if len(hb.Lost) != 0 || !slices.Equal(hb.AbortRequested, []int64{target.ID}) {
			t.Errorf("heartbeat: Lost %v, AbortRequested %v; want none lost and [%d] abort requested", hb.Lost, hb.AbortRequested, target.ID)
		}
		// A stale holder hears only that it lost the job.
		hb = x.heartbeat(at(3*time.Second), storage.Lease{ID: target.ID, Token: target.LeaseToken + 1})
		if !slices.Equal(hb.Lost, []int64{target.ID}) || len(hb.AbortRequested) != 0 {
			t.Errorf("heartbeat with a stale token: Lost %v, AbortRequested %v; want [%d] lost and no abort", hb.Lost, hb.AbortRequested, target.ID)
		}
		x.finishOne(at(4*time.Second), storage.JobFinish{ID: target.ID, LeaseToken: target.LeaseToken, Outcome: storage.OutcomeAbort, ErrorMessage: "aborted", ErrorCode: "aborted"}, true)
		x.wantState(target.ID, storage.StateAborted)
	})

	f.run(t, "HandlerDecides", func(t *testing.T, x *fixture) {
		// A job that completes after an abort request is completed.
		j := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		x.abort(at(time.Second), j.ID)
		x.complete(at(2*time.Second), j.ID, j.LeaseToken)
		x.wantState(j.ID, storage.StateCompleted)
	})

	f.run(t, "Finished", func(t *testing.T, x *fixture) {
		js := x.claimedJobs(3)
		for i, o := range []storage.Outcome{storage.OutcomeComplete, storage.OutcomeFail, storage.OutcomeAbort} {
			x.finishOne(base, storage.JobFinish{ID: js[i].ID, LeaseToken: js[i].LeaseToken, Outcome: o, Output: []byte("1"), ErrorMessage: "e"}, true)
		}
		for _, j := range js {
			before := x.get(j.ID)
			res := x.abort(at(time.Second), j.ID)
			if res.Result != storage.AbortTooLate {
				t.Errorf("abort of %s job: result %d, want AbortTooLate", before.State, res.Result)
			}
			checkJob(t, "JobAbort", res.Job, before)
			x.want(before)
		}
	})

	f.run(t, "Unknown", func(t *testing.T, x *fixture) {
		j := x.insert(job("q", "k"))
		for _, id := range []int64{j.ID + 1000, 0, -1} {
			if _, err := x.s.JobAbort(x.ctx, &storage.JobAbortParams{ID: id, Now: base}); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("JobAbort(%d): error %v, want one matching storage.ErrNotFound", id, err)
			}
		}
		x.want(j)
	})
}
