package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// byIDs is a batch of the jobs ids.
func byIDs(ids ...int64) storage.JobBatch {
	return storage.JobBatch{Filter: storage.JobFilter{IDs: ids}}
}

// retry runs p and fails the test unless it changed want jobs.
func (x *fixture) mustRetry(p *storage.JobRetryParams, want int) *storage.JobBatchResult {
	x.t.Helper()
	res, err := x.s.JobRetry(x.ctx, p)
	if err != nil {
		x.t.Fatalf("JobRetry: %v", err)
	}
	if res.Changed != want {
		x.t.Fatalf("JobRetry changed %d jobs, want %d", res.Changed, want)
	}
	return res
}

// mustDelete runs p and fails the test unless it deleted want jobs.
func (x *fixture) mustDelete(p *storage.JobDeleteParams, want int) *storage.JobBatchResult {
	x.t.Helper()
	res, err := x.s.JobDelete(x.ctx, p)
	if err != nil {
		x.t.Fatalf("JobDelete: %v", err)
	}
	if res.Changed != want {
		x.t.Fatalf("JobDelete deleted %d jobs, want %d", res.Changed, want)
	}
	return res
}

// mustAbort runs p and fails the test unless it changed want jobs.
func (x *fixture) mustAbort(p *storage.JobAbortManyParams, want int) *storage.JobBatchResult {
	x.t.Helper()
	res, err := x.s.JobAbortMany(x.ctx, p)
	if err != nil {
		x.t.Fatalf("JobAbortMany: %v", err)
	}
	if res.Changed != want {
		x.t.Fatalf("JobAbortMany changed %d jobs, want %d", res.Changed, want)
	}
	return res
}

// walkBatches runs op batch by batch from b and returns the total changed
// and the number of calls.
func walkBatches(t *testing.T, b storage.JobBatch, op func(storage.JobBatch) (*storage.JobBatchResult, error)) (changed, calls int) {
	t.Helper()
	for calls < 100 {
		res, err := op(b)
		calls++
		if err != nil {
			t.Fatalf("batch after %d: %v", b.AfterID, err)
		}
		changed += res.Changed
		if res.Next == 0 {
			return changed, calls
		}
		if res.Next <= b.AfterID {
			t.Fatalf("batch after %d: next %d does not advance", b.AfterID, res.Next)
		}
		b.AfterID = res.Next
	}
	t.Fatal("no last batch after 100 calls")
	return 0, 0
}

func testRetry(t *testing.T, f factory) {
	f.run(t, "FailedAndAborted", func(t *testing.T, x *fixture) {
		js := x.mixedJobs()
		failed, aborted := js[7], js[9]
		res := x.mustRetry(&storage.JobRetryParams{JobBatch: storage.JobBatch{
			Filter: storage.JobFilter{IDs: pick(js, 0, 4, 6, 7, 9)}, Now: at(20 * time.Minute)}}, 2)
		if res.Next != 0 {
			t.Errorf("a batch under its limit: next %d, want 0", res.Next)
		}
		for _, j := range []*storage.Job{failed, aborted} {
			want := clone(j)
			want.State = storage.StatePending
			want.Attempt = 0
			want.Output = nil
			want.FinishedAt = time.Time{}
			want.RunAfter = at(20 * time.Minute)
			// The last error stays until the next outcome.
			x.want(want)
		}
		// Pending, completed and running jobs are left alone.
		for _, i := range []int{0, 4, 6} {
			x.want(js[i])
		}
		// A retried job is claimable, with a fresh budget of attempts.
		c := x.claimOne(at(20*time.Minute), "a", "x")
		if c.ID != failed.ID || c.Attempt != 1 {
			t.Errorf("claimed job %d attempt %d, want job %d attempt 1", c.ID, c.Attempt, failed.ID)
		}
		x.complete(at(21*time.Minute), c.ID, c.LeaseToken)
		x.wantState(failed.ID, storage.StateCompleted)
		// Completed jobs are not retried.
		x.mustRetry(&storage.JobRetryParams{JobBatch: byIDs(failed.ID)}, 0)
	})

	f.run(t, "RunAfter", func(t *testing.T, x *fixture) {
		j := x.finishAt(base, storage.OutcomeFail)
		x.mustRetry(&storage.JobRetryParams{JobBatch: byIDs(j.ID), RunAfter: at(time.Hour)}, 1)
		x.claimNone(at(time.Minute), "q", "k")
		x.claimOne(at(time.Hour), "q", "k")
	})

	f.run(t, "StaleHolder", func(t *testing.T, x *fixture) {
		// A job whose lease expired with no attempt left fails; its first
		// holder's late outcome must not touch the retried job.
		p := job("q", "k")
		p.MaxAttempts = 1
		x.insert(p)
		held := x.claimOne(base, "q", "k")
		x.claimNone(at(2*lease), "q", "k")
		x.wantState(held.ID, storage.StateFailed)
		x.mustRetry(&storage.JobRetryParams{JobBatch: storage.JobBatch{Filter: storage.JobFilter{IDs: []int64{held.ID}}, Now: at(3 * lease)}}, 1)
		x.finishOne(at(3*lease), storage.JobFinish{ID: held.ID, LeaseToken: held.LeaseToken, Outcome: storage.OutcomeComplete}, false)
		x.wantState(held.ID, storage.StatePending)
	})

	f.run(t, "UniqueKeyTaken", func(t *testing.T, x *fixture) {
		p := job("q", "k")
		p.UniqueKey = "u"
		x.insert(p)
		first := x.claimOne(base, "q", "k")
		x.finishOne(base, storage.JobFinish{ID: first.ID, LeaseToken: first.LeaseToken, Outcome: storage.OutcomeFail}, true)
		second := x.insert(p)
		x.mustRetry(&storage.JobRetryParams{JobBatch: byIDs(first.ID)}, 0)
		x.wantState(first.ID, storage.StateFailed)
		// Once the holder is gone the key is free again, and the retried
		// job holds it.
		x.mustAbort(&storage.JobAbortManyParams{JobBatch: byIDs(second.ID)}, 1)
		x.mustRetry(&storage.JobRetryParams{JobBatch: byIDs(first.ID)}, 1)
		res, err := x.s.JobInsert(x.ctx, p)
		if err != nil || !res.Duplicate || res.Job.ID != first.ID {
			t.Errorf("insert with the retried job's key: %+v, %v; want a duplicate of job %d", res, err, first.ID)
		}
	})

	f.run(t, "Batches", func(t *testing.T, x *fixture) {
		for range 5 {
			x.finishAt(base, storage.OutcomeFail)
		}
		x.insert(job("q", "k"))
		changed, calls := walkBatches(t, storage.JobBatch{Filter: storage.JobFilter{Queues: []string{"q"}}, Limit: 2},
			func(b storage.JobBatch) (*storage.JobBatchResult, error) {
				return x.s.JobRetry(x.ctx, &storage.JobRetryParams{JobBatch: b})
			})
		if changed != 5 || calls != 3 {
			t.Errorf("retry in batches of 2: %d changed in %d calls, want 5 in 3", changed, calls)
		}
	})

	f.run(t, "BadInput", func(t *testing.T, x *fixture) {
		j := x.finishAt(base, storage.OutcomeFail)
		if _, err := x.s.JobRetry(x.ctx, &storage.JobRetryParams{}); !errors.Is(err, storage.ErrEmptyFilter) {
			t.Errorf("retry with an empty filter: %v, want ErrEmptyFilter", err)
		}
		bad := storage.JobBatch{Filter: storage.JobFilter{States: []storage.State{"broken"}}}
		if _, err := x.s.JobRetry(x.ctx, &storage.JobRetryParams{JobBatch: bad}); !errors.Is(err, storage.ErrUnknownState) {
			t.Errorf("retry with an unknown state: %v, want ErrUnknownState", err)
		}
		x.wantState(j.ID, storage.StateFailed)
		x.mustRetry(&storage.JobRetryParams{JobBatch: byIDs(j.ID + 100)}, 0)
		x.mustRetry(&storage.JobRetryParams{JobBatch: storage.JobBatch{All: true}}, 1)
	})
}

func testDeleteMany(t *testing.T, f factory) {
	f.run(t, "States", func(t *testing.T, x *fixture) {
		js := x.mixedJobs()
		all := storage.JobBatch{All: true}
		// Finished jobs only by default.
		x.mustDelete(&storage.JobDeleteParams{JobBatch: all}, 5)
		for _, i := range []int{4, 5, 7, 8, 9} {
			x.gone(js[i].ID)
		}
		// Pending ones when asked; running ones never.
		x.mustDelete(&storage.JobDeleteParams{JobBatch: all, Pending: true}, 4)
		x.want(js[6])
		x.mustDelete(&storage.JobDeleteParams{JobBatch: byIDs(js[6].ID), Pending: true}, 0)
		x.want(js[6])
		// A deleted pending job's unique key is free.
		p := job("a", "y")
		p.UniqueKey = "key-1"
		x.insert(p)
	})

	f.run(t, "Filter", func(t *testing.T, x *fixture) {
		js := x.mixedJobs()
		x.mustDelete(&storage.JobDeleteParams{JobBatch: storage.JobBatch{Filter: storage.JobFilter{
			Queues: []string{"b"}, FinishedBefore: at(13 * time.Minute)}}}, 1)
		x.gone(js[8].ID)
		x.get(js[9].ID)
		x.get(js[7].ID)
	})

	f.run(t, "Batches", func(t *testing.T, x *fixture) {
		for range 5 {
			x.finishAt(base, storage.OutcomeComplete)
		}
		changed, calls := walkBatches(t, storage.JobBatch{All: true, Limit: 2}, func(b storage.JobBatch) (*storage.JobBatchResult, error) {
			return x.s.JobDelete(x.ctx, &storage.JobDeleteParams{JobBatch: b})
		})
		if changed != 5 || calls != 3 {
			t.Errorf("delete in batches of 2: %d deleted in %d calls, want 5 in 3", changed, calls)
		}
	})

	f.run(t, "EmptyFilter", func(t *testing.T, x *fixture) {
		j := x.finishAt(base, storage.OutcomeComplete)
		if _, err := x.s.JobDelete(x.ctx, &storage.JobDeleteParams{}); !errors.Is(err, storage.ErrEmptyFilter) {
			t.Errorf("delete with an empty filter: %v, want ErrEmptyFilter", err)
		}
		x.get(j.ID)
	})
}

func testAbortMany(t *testing.T, f factory) {
	f.run(t, "States", func(t *testing.T, x *fixture) {
		js := x.mixedJobs()
		x.mustAbort(&storage.JobAbortManyParams{JobBatch: storage.JobBatch{
			Filter: storage.JobFilter{Queues: []string{"b"}}, Now: at(20 * time.Minute)}}, 3)
		for _, i := range []int{2, 3} {
			x.wantState(js[i].ID, storage.StateAborted)
			checkTime(t, "FinishedAt", x.get(js[i].ID).FinishedAt, at(20*time.Minute))
		}
		// The running job got an abort request and is still its holder's.
		running := x.get(js[6].ID)
		checkTime(t, "AbortRequestedAt", running.AbortRequestedAt, at(20*time.Minute))
		hb := x.heartbeat(at(20*time.Minute), storage.Lease{ID: running.ID, Token: running.LeaseToken})
		if len(hb.AbortRequested) != 1 {
			t.Errorf("heartbeat after the abort: AbortRequested %v, want [%d]", hb.AbortRequested, running.ID)
		}
		// Asked once: a second call changes nothing.
		x.mustAbort(&storage.JobAbortManyParams{JobBatch: storage.JobBatch{Filter: storage.JobFilter{Queues: []string{"b"}}}}, 0)
		// Finished jobs are left alone.
		x.want(js[8])
		x.want(js[9])
		x.wantState(js[0].ID, storage.StatePending)
	})

	f.run(t, "Batches", func(t *testing.T, x *fixture) {
		// Running jobs already asked are not picked again, so they do not
		// use up a batch.
		running := x.claimedJobs(3)
		x.mustAbort(&storage.JobAbortManyParams{JobBatch: byIDs(jobIDs(running)...)}, 3)
		for range 3 {
			x.insert(job("q", "k"))
		}
		changed, calls := walkBatches(t, storage.JobBatch{All: true, Limit: 2}, func(b storage.JobBatch) (*storage.JobBatchResult, error) {
			return x.s.JobAbortMany(x.ctx, &storage.JobAbortManyParams{JobBatch: b})
		})
		if changed != 3 || calls != 2 {
			t.Errorf("abort in batches of 2: %d changed in %d calls, want 3 in 2", changed, calls)
		}
	})

	f.run(t, "EmptyFilter", func(t *testing.T, x *fixture) {
		j := x.insert(job("q", "k"))
		if _, err := x.s.JobAbortMany(x.ctx, &storage.JobAbortManyParams{}); !errors.Is(err, storage.ErrEmptyFilter) {
			t.Errorf("abort with an empty filter: %v, want ErrEmptyFilter", err)
		}
		x.wantState(j.ID, storage.StatePending)
		x.mustAbort(&storage.JobAbortManyParams{JobBatch: storage.JobBatch{All: true}}, 1)
	})
}
