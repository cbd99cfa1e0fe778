package storagetest

import (
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// testRetention states what a retention sweep relies on: a backlog of
// finished jobs is deleted in batches of exactly the limit, oldest first,
// until a short batch says none is left; and JobDeleteFinished deletes a
// terminal job whatever made it terminal, not only JobFinish.
func testRetention(t *testing.T, f factory) {
	f.run(t, "BatchesOldestFirst", func(t *testing.T, x *fixture) {
		const limit, n = 4, 14 // three and a half batches
		cutoff := at(time.Hour)
		var expired []int64
		for i := range n {
			expired = append(expired, x.finishAt(at(time.Duration(i)*time.Second), storage.OutcomeComplete).ID)
		}
		kept := x.finishAt(cutoff, storage.OutcomeComplete)
		failed := x.finishAt(at(time.Second), storage.OutcomeFail)
		p := &storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: cutoff, Limit: limit}
		for call, done := 0, 0; done < n; call++ {
			got := x.deleteFinished(p)
			if want := min(limit, n-done); got != want {
				t.Fatalf("call %d with limit %d over %d expired jobs deleted %d, want %d", call, limit, n-done, got, want)
			}
			done += got
			for _, id := range expired[:done] {
				x.gone(id)
			}
			for _, id := range expired[done:] {
				x.wantState(id, storage.StateCompleted) // the newer ones wait for the next batch
			}
		}
		if got := x.deleteFinished(p); got != 0 {
			t.Errorf("a call after the backlog was deleted deleted %d jobs, want 0", got)
		}
		x.wantState(kept.ID, storage.StateCompleted)
		x.wantState(failed.ID, storage.StateFailed)
	})

	f.run(t, "EveryTerminalPath", func(t *testing.T, x *fixture) {
		// Aborted while pending: JobAbort makes it terminal.
		pending := x.insert(job("q", "k"))
		if res := x.abort(at(time.Minute), pending.ID); res.Result != storage.AbortedNow {
			t.Fatalf("abort of a pending job: result %v, want AbortedNow", res.Result)
		}
		// Failed by the claim: its lease expired with its attempts used up.
		last := job("q", "k")
		last.MaxAttempts = 1
		leased := x.insert(last)
		x.claimOne(base, "q", "k")
		x.claimNone(at(time.Minute+lease), "q", "k")
		if got := x.get(leased.ID); got.State != storage.StateFailed || got.ErrorCode != "lease_expired" {
			t.Fatalf("job whose last lease expired: state %s, code %q; want failed, lease_expired", got.State, got.ErrorCode)
		}
		for _, st := range []storage.State{storage.StateAborted, storage.StateFailed} {
			if n := x.deleteFinished(&storage.JobDeleteFinishedParams{State: st, FinishedBefore: at(time.Hour)}); n != 1 {
				t.Errorf("deleted %d %s jobs, want 1", n, st)
			}
		}
		x.gone(pending.ID)
		x.gone(leased.ID)
	})
}
