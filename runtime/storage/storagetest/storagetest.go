package storagetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Backend tells the suites how to open a backend's stores.
type Backend struct {
	// New returns a fresh, empty store on each call and registers its
	// cleanup with t. Stores from different calls share nothing.
	New func(t *testing.T) storage.Storage
	// Open returns another store over the jobs of s, a store from New, the
	// way a second process opens the same database: a change made through
	// either is seen through the other, and each has notifications of its
	// own where the backend has them. It registers its cleanup with t.
	// Leave it nil when a backend's stores cannot share their jobs; the
	// tests that need two stores are skipped then.
	Open func(t *testing.T, s storage.Storage) storage.Storage
	// Begin begins a transaction of the application on the database of s,
	// a store from New, and returns it with the backend's view of s that
	// inserts jobs inside it (the view runtime.InTx takes). It registers
	// its cleanup with t. Leave it nil when the backend has no
	// transactions; the transactional tests are skipped then.
	Begin func(t *testing.T, s storage.Storage) *Tx
}

// Tx is a transaction of Backend.Begin.
type Tx struct {
	// Jobs is the view of the store that runs inside the transaction.
	Jobs storage.Storage
	// Commit and Rollback end the transaction.
	Commit, Rollback func() error
}

// Run runs the whole conformance suite against the backend b.
func Run(t *testing.T, b Backend) {
	t.Helper()
	topics := []struct {
		name string
		run  func(*testing.T, factory)
	}{
		{"Insert", testInsert},
		{"InsertManyLarge", testInsertManyLarge},
		{"Claim", testClaim},
		{"InsertClaim", testInsertClaim},
		{"Defer", testDefer},
		{"Lease", testLease},
		{"Finish", testFinish},
		{"ReleaseDelay", testReleaseDelay},
		{"Abort", testAbort},
		{"AbortRequested", testAbortRequested},
		{"Unique", testUnique},
		{"UniqueWindow", testUniqueWindow},
		{"Delete", testDelete},
		{"Retention", testRetention},
		{"Get", testGet},
		{"List", testList},
		{"Query", testQuery},
		{"Count", testCount},
		{"Retry", testRetry},
		{"DeleteMany", testDeleteMany},
		{"AbortMany", testAbortMany},
		{"Pause", testPause},
		{"Close", testClose},
		{"LastError", testLastError},
		{"Poison", testPoison},
		{"Metadata", testMetadata},
	}
	for _, tc := range topics {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, b.New)
		})
	}
	t.Run("Notifier", func(t *testing.T) {
		t.Parallel()
		testNotifier(t, b)
	})
	t.Run("Tx", func(t *testing.T) {
		t.Parallel()
		testTx(t, b)
	})
	t.Run("Schedule", func(t *testing.T) {
		t.Parallel()
		testSchedule(t, b)
	})
}

// factory builds a fresh store for one test.
type factory func(t *testing.T) storage.Storage

// run runs test as a parallel subtest named name, with its own store.
func (f factory) run(t *testing.T, name string, test func(t *testing.T, x *fixture)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		test(t, &fixture{t: t, s: f(t), ctx: t.Context()})
	})
}

// base is the suite's clock at the start of every test: a fixed instant in
// UTC with a fraction of a second that microseconds can hold. It lies far
// from the real clock, so a backend that ignores Now fails loudly.
var base = time.Date(2030, time.March, 4, 5, 6, 7, 890123000, time.UTC)

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// lease is the lease duration of claims that do not choose their own.
const lease = time.Minute

// fixture bundles one test's store with helpers that fail the test on
// unexpected errors.
type fixture struct {
	t   *testing.T
	s   storage.Storage
	ctx context.Context
}

// job returns valid insert params for one job of queue and kind, inserted
// at base and ready at once.
func job(queue, kind string) *storage.JobInsertParams {
	return &storage.JobInsertParams{
		Kind:        kind,
		Queue:       queue,
		Input:       []byte(`{"n":1}`),
		MaxAttempts: 3,
		Now:         base,
	}
}

// insert inserts p, which must not be a duplicate, and returns the new job.
func (x *fixture) insert(p *storage.JobInsertParams) *storage.Job {
	x.t.Helper()
	res, err := x.s.JobInsert(x.ctx, p)
	if err != nil {
		x.t.Fatalf("JobInsert(kind %q, queue %q): %v", p.Kind, p.Queue, err)
	}
	if res.Duplicate {
		x.t.Fatalf("JobInsert(kind %q, queue %q, key %q): Duplicate = true, want a new job", p.Kind, p.Queue, p.UniqueKey)
	}
	return res.Job
}

// claimParams asks for up to limit jobs of queue and kinds at now.
func claimParams(now time.Time, limit int, queue string, kinds ...string) *storage.JobClaimParams {
	return &storage.JobClaimParams{Queue: queue, Kinds: kinds, Limit: limit, LeaseDuration: lease, Now: now}
}

// claim claims with p and checks each claimed job against the stored one.
func (x *fixture) claim(p *storage.JobClaimParams) *storage.JobClaimResult {
	x.t.Helper()
	res, err := x.s.JobClaim(x.ctx, p)
	if err != nil {
		x.t.Fatalf("JobClaim(queue %q, kinds %q, limit %d): %v", p.Queue, p.Kinds, p.Limit, err)
	}
	for _, c := range res.Jobs {
		x.checkClaimed("JobClaim", c)
	}
	return res
}

// checkClaimed checks that a claimed job is running and that its fields
// are the stored job's.
func (x *fixture) checkClaimed(what string, c *storage.ClaimedJob) {
	x.t.Helper()
	stored := x.get(c.ID)
	if stored.State != storage.StateRunning {
		x.t.Errorf("%s: claimed job %d is stored in state %s, want running", what, c.ID, stored.State)
	}
	if c.LeaseToken == 0 {
		x.t.Errorf("%s: claimed job %d has LeaseToken 0, want a token", what, c.ID)
	}
	checkClaim(x.t, what+" (against JobGet)", c, stored)
}

// checkClaim reports a difference between a claimed job and the claim's
// view of want, naming what.
func checkClaim(t *testing.T, what string, got *storage.ClaimedJob, want *storage.Job) {
	t.Helper()
	if d := cmp.Diff(claimedView(want), got, jobDiff); d != "" {
		t.Errorf("%s: claimed job %d mismatch (-want +got):\n%s", what, want.ID, d)
	}
}

// claimedView is the part of j a claim returns.
func claimedView(j *storage.Job) *storage.ClaimedJob {
	return &storage.ClaimedJob{
		ID:             j.ID,
		Kind:           j.Kind,
		Queue:          j.Queue,
		Input:          j.Input,
		Attempt:        j.Attempt,
		MaxAttempts:    j.MaxAttempts,
		LeaseToken:     j.LeaseToken,
		LeaseExpiresAt: j.LeaseExpiresAt,
		Deadline:       j.Deadline,
		Timeout:        j.Timeout,
		Metadata:       j.Metadata,
		CreatedAt:      j.CreatedAt,
		RunAfter:       j.RunAfter,
	}
}

// claimAt claims up to limit jobs of queue and kinds at now, with the
// default lease.
func (x *fixture) claimAt(now time.Time, limit int, queue string, kinds ...string) *storage.JobClaimResult {
	x.t.Helper()
	return x.claim(claimParams(now, limit, queue, kinds...))
}

// claimOne claims exactly one job of queue and kind at now and returns it
// as stored after the claim.
func (x *fixture) claimOne(now time.Time, queue, kind string) *storage.Job {
	x.t.Helper()
	res := x.claimAt(now, 1, queue, kind)
	if len(res.Jobs) != 1 {
		x.t.Fatalf("JobClaim(queue %q, kind %q) at %v claimed %d jobs, want 1", queue, kind, now, len(res.Jobs))
	}
	return x.get(res.Jobs[0].ID)
}

// stored returns the claimed jobs as stored after the claim.
func (x *fixture) stored(cs []*storage.ClaimedJob) []*storage.Job {
	x.t.Helper()
	js := make([]*storage.Job, len(cs))
	for i, c := range cs {
		js[i] = x.get(c.ID)
	}
	return js
}

// claimedJobs inserts n jobs of kind "k" on queue "q", claims them all at
// base and returns them as stored after the claim.
func (x *fixture) claimedJobs(n int) []*storage.Job {
	x.t.Helper()
	for range n {
		x.insert(job("q", "k"))
	}
	js := x.stored(x.claimAt(base, n, "q", "k").Jobs)
	if len(js) != n {
		x.t.Fatalf("claimed %d jobs, want %d", len(js), n)
	}
	return js
}

// claimNone claims at now and fails the test if it got anything.
func (x *fixture) claimNone(now time.Time, queue string, kinds ...string) *storage.JobClaimResult {
	x.t.Helper()
	res := x.claimAt(now, 10, queue, kinds...)
	if len(res.Jobs) != 0 {
		x.t.Fatalf("JobClaim(queue %q, kinds %q) at %v claimed ids %v, want none", queue, kinds, now, ids(res.Jobs))
	}
	return res
}

// finish writes fs at now and returns Applied.
func (x *fixture) finish(now time.Time, fs ...storage.JobFinish) []bool {
	x.t.Helper()
	res, err := x.s.JobFinish(x.ctx, &storage.JobFinishParams{Jobs: fs, Now: now})
	if err != nil {
		x.t.Fatalf("JobFinish: %v", err)
	}
	if len(res.Applied) != len(fs) {
		x.t.Fatalf("JobFinish of %d entries returned %d Applied flags", len(fs), len(res.Applied))
	}
	return res.Applied
}

// finishOne writes f at now and fails the test unless Applied equals want.
func (x *fixture) finishOne(now time.Time, f storage.JobFinish, want bool) {
	x.t.Helper()
	if got := x.finish(now, f)[0]; got != want {
		x.t.Fatalf("JobFinish(job %d, outcome %d): Applied = %v, want %v", f.ID, f.Outcome, got, want)
	}
}

// complete finishes the held job id, claimed with token, as completed at now.
func (x *fixture) complete(now time.Time, id, token int64) {
	x.t.Helper()
	x.finishOne(now, storage.JobFinish{ID: id, LeaseToken: token, Outcome: storage.OutcomeComplete}, true)
}

// heartbeat renews leases at now with the default lease duration.
func (x *fixture) heartbeat(now time.Time, leases ...storage.Lease) *storage.JobHeartbeatResult {
	x.t.Helper()
	res, err := x.s.JobHeartbeat(x.ctx, &storage.JobHeartbeatParams{Leases: leases, LeaseDuration: lease, Now: now})
	if err != nil {
		x.t.Fatalf("JobHeartbeat: %v", err)
	}
	return res
}

// abort aborts job id at now.
func (x *fixture) abort(now time.Time, id int64) *storage.JobAbortResult {
	x.t.Helper()
	res, err := x.s.JobAbort(x.ctx, &storage.JobAbortParams{ID: id, Now: now})
	if err != nil {
		x.t.Fatalf("JobAbort(%d): %v", id, err)
	}
	return res
}

// get returns job id.
func (x *fixture) get(id int64) *storage.Job {
	x.t.Helper()
	j, err := x.s.JobGet(x.ctx, &storage.JobGetParams{ID: id})
	if err != nil {
		x.t.Fatalf("JobGet(%d): %v", id, err)
	}
	return j
}

// gone fails the test unless job id is not found.
func (x *fixture) gone(id int64) {
	x.t.Helper()
	j, err := x.s.JobGet(x.ctx, &storage.JobGetParams{ID: id})
	if !errors.Is(err, storage.ErrNotFound) {
		x.t.Fatalf("JobGet(%d) = job in state %v, error %v; want an error matching storage.ErrNotFound", id, state(j), err)
	}
}

// list lists with p.
func (x *fixture) list(p *storage.JobListParams) []*storage.Job {
	x.t.Helper()
	js, err := x.s.JobList(x.ctx, p)
	if err != nil {
		x.t.Fatalf("JobList: %v", err)
	}
	return js
}

// count returns how many jobs the store holds.
func (x *fixture) count() int {
	x.t.Helper()
	return len(x.list(&storage.JobListParams{Limit: 10000}))
}

// want checks that the stored job equals want.
func (x *fixture) want(want *storage.Job) {
	x.t.Helper()
	checkJob(x.t, "JobGet", x.get(want.ID), want)
}

// wantState checks the stored state of job id.
func (x *fixture) wantState(id int64, want storage.State) {
	x.t.Helper()
	if got := x.get(id).State; got != want {
		x.t.Errorf("job %d: State = %q, want %q", id, got, want)
	}
}

// jobDiff compares jobs the way backends may differ: times to the
// microsecond and by instant, byte slices by content.
var jobDiff = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return sameTime(a, b) }),
	cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) }),
}

// checkJob reports a difference between got and want, naming what.
func checkJob(t *testing.T, what string, got, want *storage.Job) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: job %d is nil", what, want.ID)
		return
	}
	if d := cmp.Diff(want, got, jobDiff); d != "" {
		t.Errorf("%s: job %d mismatch (-want +got):\n%s", what, want.ID, d)
	}
}

// sameTime reports whether a and b are the same instant to the microsecond.
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

// checkTime reports a difference between two times, naming what.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !sameTime(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// ids returns the ids of claimed jobs.
func ids(js []*storage.ClaimedJob) []int64 {
	out := make([]int64, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

// jobIDs returns the ids of js.
func jobIDs(js []*storage.Job) []int64 {
	out := make([]int64, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

// sorted returns a sorted copy of s.
func sorted(s []int64) []int64 {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// state returns j's state, or "" for nil.
func state(j *storage.Job) storage.State {
	if j == nil {
		return ""
	}
	return j.State
}

// clone copies j for building an expected job.
func clone(j *storage.Job) *storage.Job { return j.Clone() }
