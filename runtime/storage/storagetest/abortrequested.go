package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// testAbortRequested: JobAbortRequested reports, in ascending order, the
// running jobs among those asked about that have an abort request, and
// nothing else: not running jobs without one, not pending, finished or
// unknown jobs. It writes nothing.
func testAbortRequested(t *testing.T, f factory) {
	f.run(t, "RunningWithRequest", func(t *testing.T, x *fixture) {
		js := x.claimedJobs(4)
		x.abort(at(time.Second), js[2].ID)
		x.abort(at(time.Second), js[0].ID)
		// Requested, then completed by its handler: no longer running.
		x.abort(at(time.Second), js[3].ID)
		x.complete(at(2*time.Second), js[3].ID, js[3].LeaseToken)
		pending := x.insert(job("q", "k"))
		aborted := x.insert(job("q", "k"))
		x.abort(at(time.Second), aborted.ID)
		before := make([]*storage.Job, 0, len(js))
		for _, j := range js {
			before = append(before, x.get(j.ID))
		}
		ids := []int64{js[3].ID, js[2].ID, pending.ID, js[1].ID, aborted.ID, js[0].ID, js[3].ID + 1000}
		got, err := x.s.JobAbortRequested(x.ctx, &storage.JobAbortRequestedParams{IDs: ids})
		if err != nil {
			t.Fatalf("JobAbortRequested: %v", err)
		}
		if want := []int64{js[0].ID, js[2].ID}; !slices.Equal(got, want) {
			t.Errorf("JobAbortRequested(%v) = %v, want %v", ids, got, want)
		}
		for _, j := range before {
			x.want(j)
		}
	})

	f.run(t, "None", func(t *testing.T, x *fixture) {
		js := x.claimedJobs(1)
		for _, ids := range [][]int64{nil, {js[0].ID}} {
			got, err := x.s.JobAbortRequested(x.ctx, &storage.JobAbortRequestedParams{IDs: ids})
			if err != nil || len(got) != 0 {
				t.Errorf("JobAbortRequested(%v) = %v, %v; want none", ids, got, err)
			}
		}
	})

	f.run(t, "Closed", func(t *testing.T, x *fixture) {
		js := x.claimedJobs(1)
		if err := x.s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, err := x.s.JobAbortRequested(x.ctx, &storage.JobAbortRequestedParams{IDs: []int64{js[0].ID}})
		if !errors.Is(err, storage.ErrClosed) {
			t.Errorf("JobAbortRequested after Close: error %v, want one matching storage.ErrClosed", err)
		}
	})
}
