package runtimetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// The retention rule: every job that reaches a terminal state, by whatever
// path (the finisher, an abort while pending, a claim failing an expired
// lease), is deleted once it is older than its state's TTL: with a negative
// TTL the finisher deletes its own jobs at once and the sweep the others
// within one SweepInterval; with a positive TTL the sweep deletes them after
// that age, all of them in one round however many there are. Zero TTLs
// mean the defaults (completed 24h, failed and aborted 7 days); KeepForever
// keeps them. A WaitFor whose job was deleted after it read it (or
// through the handle of its submit) returns ErrDeleted, not ErrNotFound.

// Jobs the tests below store directly, of a kind and queue no server works.
const (
	storedQueue = "stored"
	storedKind  = "stored"
)

// storeFinished stores n jobs finished with outcome o at now (zero: the
// storage clock) and returns their ids. Aborted jobs are aborted while
// pending, failed ones are failed by a claim because their lease expired
// with their attempts used up; the finisher is not involved.
func storeFinished(t *testing.T, store storage.Storage, now time.Time, o storage.Outcome, n int) []int64 {
	t.Helper()
	ctx := ctxT(t)
	// Failed jobs are inserted and claimed an hour early, with a lease that
	// has expired by now; the claim at now fails them.
	claimAt := now
	if o == storage.OutcomeFail {
		if claimAt.IsZero() {
			claimAt = time.Now()
		}
		claimAt = claimAt.Add(-time.Hour)
	}
	ps := make([]*storage.JobInsertParams, n)
	for i := range ps {
		ps[i] = &storage.JobInsertParams{Kind: storedKind, Queue: storedQueue, Input: []byte(`{}`), MaxAttempts: 1}
	}
	ids := make([]int64, n)
	for i, r := range must(store.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: ps, Now: claimAt})) {
		ids[i] = r.Job.ID
	}
	if o == storage.OutcomeAbort {
		for _, id := range ids {
			if res := must(store.JobAbort(ctx, &storage.JobAbortParams{ID: id, Now: now})); res.Result != storage.AbortedNow {
				t.Fatalf("abort of pending job %d: result %v, want AbortedNow", id, res.Result)
			}
		}
		return ids
	}
	claim := &storage.JobClaimParams{Queue: storedQueue, Kinds: []string{storedKind}, Limit: n, LeaseDuration: time.Minute, Now: claimAt}
	claimed := must(store.JobClaim(ctx, claim))
	if len(claimed.Jobs) != n {
		t.Fatalf("claimed %d stored jobs, want %d", len(claimed.Jobs), n)
	}
	if o == storage.OutcomeFail {
		claim.Now = now
		if got := must(store.JobClaim(ctx, claim)); len(got.Jobs) != 0 {
			t.Fatalf("claim after the leases expired claimed %d jobs, want none", len(got.Jobs))
		}
		for _, id := range ids {
			if j := must(store.JobGet(ctx, &storage.JobGetParams{ID: id})); j.State != storage.StateFailed || j.ErrorCode != "lease_expired" {
				t.Fatalf("job %d: state %s, code %q; want failed, lease_expired", id, j.State, j.ErrorCode)
			}
		}
		return ids
	}
	fs := make([]storage.JobFinish, n)
	for i, c := range claimed.Jobs {
		fs[i] = storage.JobFinish{ID: c.ID, LeaseToken: c.LeaseToken, Outcome: o}
	}
	must(store.JobFinish(ctx, &storage.JobFinishParams{Jobs: fs, Now: now}))
	return ids
}

// stored reports whether job id is still stored.
func stored(t *testing.T, store storage.Storage, id int64) bool {
	t.Helper()
	_, err := store.JobGet(context.Background(), &storage.JobGetParams{ID: id})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("JobGet(%d): %v", id, err)
	}
	return err == nil
}

// allGone reports whether none of ids is stored.
func allGone(t *testing.T, store storage.Storage, ids []int64) bool {
	t.Helper()
	for _, id := range ids {
		if stored(t, store, id) {
			return false
		}
	}
	return true
}

// wantStored fails the test unless every one of ids is still stored.
func wantStored(t *testing.T, store storage.Storage, what string, ids []int64) {
	t.Helper()
	for _, id := range ids {
		if !stored(t, store, id) {
			t.Errorf("%s job %d was deleted, want it kept", what, id)
		}
	}
}

// testRetentionCatchesUp stores three and a half sweep batches of expired
// jobs of every terminal state: the sweep round at start deletes them all
// (the interval is an hour, so no second round runs) and keeps those
// within their TTL.
func testRetentionCatchesUp(t *testing.T, newStore NewStore) {
	const batch = 4
	e := newEnv(t, newStore, runtime.Config{Retention: runtime.Retention{
		Completed: time.Hour, Failed: time.Hour, Aborted: time.Hour,
		SweepInterval: time.Hour, SweepBatch: batch,
	}}, func(s *runtime.Server) { register(t, s, work, noop) })
	old := time.Now().Add(-2 * time.Hour)
	var expired []int64
	for _, o := range []storage.Outcome{storage.OutcomeComplete, storage.OutcomeFail, storage.OutcomeAbort} {
		expired = append(expired, storeFinished(t, e.store.Storage, old, o, batch*3+batch/2)...)
	}
	kept := storeFinished(t, e.store.Storage, time.Time{}, storage.OutcomeComplete, batch)
	e.start()
	eventually(t, "one sweep round to delete every expired job", func() bool { return allGone(t, e.store.Storage, expired) })
	wantStored(t, e.store.Storage, "unexpired", kept)
}

// testRetentionEveryTerminalPath checks that jobs aborted while pending and
// jobs failed by a claim for an expired lease are deleted by retention,
// with a negative TTL and with a positive one.
func testRetentionEveryTerminalPath(t *testing.T, newStore NewStore) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{{"Negative", -1}, {"Positive", time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, newStore, runtime.Config{Retention: runtime.Retention{
				Completed: tc.ttl, Failed: tc.ttl, Aborted: tc.ttl, SweepInterval: 5 * time.Millisecond,
			}}, func(s *runtime.Server) { register(t, s, work, noop) })
			// A job of the server's kind whose only lease expired: the
			// server's claim fails it with code lease_expired.
			early := time.Now().Add(-time.Hour)
			ins := must(e.store.JobInsert(ctxT(t), &storage.JobInsertParams{Kind: work.Name(), Queue: runtime.DefaultQueue, Input: []byte(`{}`), MaxAttempts: 1, Now: early}))
			leaseExpired := ins.Job.ID
			claim := &storage.JobClaimParams{Queue: runtime.DefaultQueue, Kinds: []string{work.Name()}, Limit: 1, LeaseDuration: time.Minute, Now: early}
			if got := must(e.store.JobClaim(ctxT(t), claim)); len(got.Jobs) != 1 {
				t.Fatalf("claimed %d jobs, want 1", len(got.Jobs))
			}
			e.start()
			h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
			if err := h.Abort(ctxT(t)); err != nil {
				t.Fatalf("Abort of a pending job: %v", err)
			}
			eventually(t, "the pending-aborted and the lease-expired job to be deleted", func() bool {
				return allGone(t, e.store.Storage, []int64{h.ID, leaseExpired})
			})
		})
	}
}

// testRetentionDefaults checks the zero TTLs' defaults, completed 24h and
// failed 7 days, and that a KeepForever state is never swept.
func testRetentionDefaults(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{Retention: runtime.Retention{Aborted: runtime.KeepForever, SweepInterval: 5 * time.Millisecond}},
		func(s *runtime.Server) { register(t, s, work, noop) })
	now, day := time.Now(), 24*time.Hour
	gone := append(storeFinished(t, e.store.Storage, now.Add(-25*time.Hour), storage.OutcomeComplete, 1),
		storeFinished(t, e.store.Storage, now.Add(-8*day), storage.OutcomeFail, 1)...)
	kept := append(storeFinished(t, e.store.Storage, now.Add(-23*time.Hour), storage.OutcomeComplete, 1),
		storeFinished(t, e.store.Storage, now.Add(-6*day), storage.OutcomeFail, 1)...)
	forever := storeFinished(t, e.store.Storage, now.Add(-10*365*day), storage.OutcomeAbort, 1)
	e.start()
	eventually(t, "jobs past the default TTLs to be deleted", func() bool { return allGone(t, e.store.Storage, gone) })
	// Two more delete calls: a whole later round of completed and failed.
	calls := e.store.deletes.Load()
	eventually(t, "another sweep round", func() bool { return e.store.deletes.Load() >= calls+2 })
	wantStored(t, e.store.Storage, "within the default TTL", kept)
	wantStored(t, e.store.Storage, "KeepForever", forever)
}

// deletingWorker is ss.worker with every TTL negative: the worker deletes
// each job as it finishes it.
func (ss *stores) deletingWorker(t *testing.T, h runtime.HandlerFunc[Args, Result]) *hookStore {
	t.Helper()
	store := &hookStore{Storage: ss.first(t)}
	cfg := ss.serverConfig()
	cfg.Retention = runtime.Retention{Completed: -1, Failed: -1, Aborted: -1}
	ss.startServerWith(t, store.wrap(true), cfg, func(s *runtime.Server) { register(t, s, work, h) })
	return store
}

// testCrossWaitForDeleted: a detached client in another process waits for
// jobs that complete, fail and are aborted in the worker, which deletes
// them as they finish. The waiter read each unfinished, so it gets
// ErrDeleted. So does the handle of a job the detached client submitted,
// whether or not it ever read the job.
func testCrossWaitForDeleted(t *testing.T, ss *stores) {
	for _, tc := range []struct {
		name string
		// run is the handler; finish makes the job finish once the
		// waiter has read it and it runs.
		run    func(ctx context.Context, release <-chan struct{}) error
		finish func(client *runtime.Client, id int64) error
	}{
		{"Completed", func(_ context.Context, release <-chan struct{}) error { <-release; return nil }, nil},
		{"Failed", func(_ context.Context, release <-chan struct{}) error { <-release; return runtime.Permanent(errTest) }, nil},
		{"Aborted", func(ctx context.Context, _ <-chan struct{}) error { <-ctx.Done(); return context.Cause(ctx) },
			func(client *runtime.Client, id int64) error { return client.Abort(ctxT(t), id) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ss := newStores(t, ss.b, ss.notify)
			release, running := make(chan struct{}), make(chan struct{})
			worker := ss.deletingWorker(t, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
				close(running) // the job runs once
				return Result{}, tc.run(ctx, release)
			})
			client, store := ss.observer(t)
			id := must(work.Submit(ctxT(t), client, Args{}, nil)).ID
			releaseAfterWaitReads(store, release)
			if tc.finish != nil {
				go func() {
					<-release
					<-running // abort it running, not pending
					if err := tc.finish(client, id); err != nil {
						t.Errorf("finish job %d: %v", id, err)
					}
				}()
			}
			_, err := work.WaitFor(ctxT(t), client, id)
			if !errors.Is(err, runtime.ErrDeleted) || errors.Is(err, runtime.ErrNotFound) {
				t.Fatalf("WaitFor of a job deleted as it finished: %v, want ErrDeleted (and not ErrNotFound)", err)
			}
			if stored(t, worker.Storage, id) {
				t.Fatalf("job %d is still stored, want it deleted", id)
			}
		})
	}
	t.Run("SubmittedHandle", func(t *testing.T) {
		t.Parallel()
		ss := newStores(t, ss.b, ss.notify)
		ss.deletingWorker(t, noop)
		client, _ := ss.observer(t)
		h := must(work.Submit(ctxT(t), client, Args{}, nil))
		if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrDeleted) {
			t.Fatalf("Wait of a submitted job deleted as it finished: %v, want ErrDeleted", err)
		}
	})
}
