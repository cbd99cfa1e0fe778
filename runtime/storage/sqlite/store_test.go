package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/runtime/storage"
)

func TestMain(m *testing.M) {
	if runHelperProcess() {
		return
	}
	goleak.VerifyTestMain(m)
}

// newStore opens a store on a fresh file in t.TempDir and closes it at the
// end of the test.
func newStore(t testing.TB, opts *Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func insert(t testing.TB, s *Store, p storage.JobInsertParams) *storage.Job {
	t.Helper()
	if p.Kind == "" {
		p.Kind = "k"
	}
	if p.Queue == "" {
		p.Queue = "q"
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 3
	}
	if p.Now.IsZero() {
		p.Now = t0
	}
	r, err := s.JobInsert(context.Background(), &p)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	return r.Job
}

func claim(t testing.TB, s *Store, limit int, now time.Time) *storage.JobClaimResult {
	t.Helper()
	r, err := s.JobClaim(context.Background(), &storage.JobClaimParams{
		Queue: "q", Kinds: []string{"k"}, Limit: limit, LeaseDuration: time.Minute, Now: now,
	})
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return r
}

func integrityCheck(t testing.TB, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+escapePath(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check = %q", res)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := context.Background()
	in := storage.JobInsertParams{
		Kind: "k", Queue: "q", Input: []byte(`{"a":1}`), Priority: -2, MaxAttempts: 5,
		RunAfter: t0.Add(time.Second + 1500), Deadline: t0.Add(time.Hour), Timeout: 1234567,
		UniqueKey: "u", Now: t0,
	}
	got := insert(t, s, in)
	read, err := s.JobGet(ctx, &storage.JobGetParams{ID: got.ID})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(read) != fmt.Sprint(got) {
		t.Fatalf("get = %+v\ninsert returned %+v", read, got)
	}
	if !read.RunAfter.Equal(t0.Add(time.Second+1000)) || read.RunAfter.Location() != time.UTC {
		t.Fatalf("run after %v, want truncated UTC", read.RunAfter)
	}
	if read.Timeout != 1234567 || read.State != storage.StatePending || read.Attempt != 0 {
		t.Fatalf("bad job %+v", read)
	}
	if _, err := s.JobGet(ctx, &storage.JobGetParams{ID: 999}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("get unknown: %v", err)
	}
}

func TestClaimOrderAndNextRunAfter(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	a := insert(t, s, storage.JobInsertParams{Priority: 1})
	b := insert(t, s, storage.JobInsertParams{Priority: 0, RunAfter: t0.Add(-time.Second)})
	c := insert(t, s, storage.JobInsertParams{Priority: 0})
	later := insert(t, s, storage.JobInsertParams{RunAfter: t0.Add(30 * time.Second)})
	insert(t, s, storage.JobInsertParams{Queue: "other"})
	insert(t, s, storage.JobInsertParams{Kind: "other"})

	r := claim(t, s, 10, t0)
	var ids []int64
	for _, j := range r.Jobs {
		ids = append(ids, j.ID)
		if j.Attempt != 1 || j.LeaseToken == 0 {
			t.Fatalf("claimed job %+v", j)
		}
	}
	if want := []int64{b.ID, c.ID, a.ID}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("claimed %v, want %v", ids, want)
	}
	if !r.NextRunAfter.Equal(later.RunAfter) || !r.Now.Equal(t0) {
		t.Fatalf("next run after %v now %v", r.NextRunAfter, r.Now)
	}
	if r := claim(t, s, 10, t0.Add(30*time.Second-time.Microsecond)); len(r.Jobs) != 0 {
		t.Fatalf("deferred job claimed early")
	}
	r = claim(t, s, 10, t0.Add(30*time.Second))
	if len(r.Jobs) != 1 || r.Jobs[0].ID != later.ID || !r.NextRunAfter.IsZero() {
		t.Fatalf("claim at run_after: %+v", r)
	}
}

func TestFencingAndOutcomes(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := context.Background()
	for range 5 {
		insert(t, s, storage.JobInsertParams{})
	}
	r := claim(t, s, 5, t0)
	j := r.Jobs
	now := t0.Add(time.Second)
	fin, err := s.JobFinish(ctx, &storage.JobFinishParams{Now: now, Jobs: []storage.JobFinish{
		{ID: j[0].ID, LeaseToken: j[0].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte("out")},
		{ID: j[1].ID, LeaseToken: j[1].LeaseToken, Outcome: storage.OutcomeFail, ErrorMessage: "boom", ErrorCode: "e"},
		{ID: j[2].ID, LeaseToken: j[2].LeaseToken, Outcome: storage.OutcomeRetry, ErrorMessage: "again", RetryDelay: time.Minute},
		{ID: j[3].ID, LeaseToken: j[3].LeaseToken, Outcome: storage.OutcomeRelease},
		{ID: j[4].ID, LeaseToken: j[4].LeaseToken + 1000, Outcome: storage.OutcomeComplete},
		{ID: j[0].ID, LeaseToken: j[0].LeaseToken, Outcome: storage.OutcomeFail},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[true true true true false false]"; fmt.Sprint(fin.Applied) != want {
		t.Fatalf("applied %v, want %s", fin.Applied, want)
	}
	get := func(id int64) *storage.Job {
		g, err := s.JobGet(ctx, &storage.JobGetParams{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if g := get(j[0].ID); g.State != storage.StateCompleted || string(g.Output) != "out" || !g.FinishedAt.Equal(now) || g.LeaseToken != 0 {
		t.Fatalf("completed %+v", g)
	}
	if g := get(j[1].ID); g.State != storage.StateFailed || g.ErrorMessage != "boom" || g.ErrorCode != "e" {
		t.Fatalf("failed %+v", g)
	}
	if g := get(j[2].ID); g.State != storage.StatePending || !g.RunAfter.Equal(now.Add(time.Minute)) || g.ErrorMessage != "again" || g.Attempt != 1 {
		t.Fatalf("retried %+v", g)
	}
	if g := get(j[3].ID); g.State != storage.StatePending || !g.RunAfter.Equal(now) || g.Attempt != 0 {
		t.Fatalf("released %+v", g)
	}
	hb, err := s.JobHeartbeat(ctx, &storage.JobHeartbeatParams{LeaseDuration: time.Minute, Now: now, Leases: []storage.Lease{
		{ID: j[4].ID, Token: j[4].LeaseToken}, {ID: j[0].ID, Token: j[0].LeaseToken},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hb.Lost) != fmt.Sprint([]int64{j[0].ID}) || len(hb.AbortRequested) != 0 {
		t.Fatalf("heartbeat %+v", hb)
	}
}

func TestLeaseExpiry(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := context.Background()
	a := insert(t, s, storage.JobInsertParams{MaxAttempts: 2})
	first := claim(t, s, 1, t0).Jobs[0]
	if r := claim(t, s, 1, t0.Add(time.Minute-time.Microsecond)); len(r.Jobs) != 0 {
		t.Fatal("claimed a job whose lease is held")
	}
	second := claim(t, s, 1, t0.Add(time.Minute)).Jobs[0]
	if second.ID != a.ID || second.Attempt != 2 || second.LeaseToken == first.LeaseToken {
		t.Fatalf("rescue %+v after %+v", second, first)
	}
	fin, err := s.JobFinish(ctx, &storage.JobFinishParams{Now: t0.Add(time.Minute), Jobs: []storage.JobFinish{
		{ID: a.ID, LeaseToken: first.LeaseToken, Outcome: storage.OutcomeComplete},
	}})
	if err != nil || fin.Applied[0] {
		t.Fatalf("stale finish applied=%v err=%v", fin, err)
	}
	// Attempts used up: the next claim after expiry fails it.
	if r := claim(t, s, 1, t0.Add(2*time.Minute)); len(r.Jobs) != 0 {
		t.Fatalf("claimed a job with no attempts left: %+v", r.Jobs[0])
	}
	g, err := s.JobGet(ctx, &storage.JobGetParams{ID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if g.State != storage.StateFailed || g.ErrorCode != "lease_expired" || !g.FinishedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("expired job %+v", g)
	}
}

func TestAbort(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := context.Background()
	p := insert(t, s, storage.JobInsertParams{Priority: 1})
	r := insert(t, s, storage.JobInsertParams{})
	held := claim(t, s, 1, t0).Jobs[0]
	if held.ID != r.ID {
		t.Fatal("wrong job claimed")
	}
	res, err := s.JobAbort(ctx, &storage.JobAbortParams{ID: p.ID, Now: t0})
	if err != nil || res.Result != storage.AbortedNow || res.Job.State != storage.StateAborted {
		t.Fatalf("abort pending: %+v %v", res, err)
	}
	res, err = s.JobAbort(ctx, &storage.JobAbortParams{ID: r.ID, Now: t0})
	if err != nil || res.Result != storage.AbortRequested || !res.Job.AbortRequestedAt.Equal(t0) || res.Job.State != storage.StateRunning {
		t.Fatalf("abort running: %+v %v", res, err)
	}
	hb, err := s.JobHeartbeat(ctx, &storage.JobHeartbeatParams{LeaseDuration: time.Minute, Now: t0, Leases: []storage.Lease{{ID: r.ID, Token: held.LeaseToken}}})
	if err != nil || fmt.Sprint(hb.AbortRequested) != fmt.Sprint([]int64{r.ID}) {
		t.Fatalf("heartbeat %+v %v", hb, err)
	}
	res, err = s.JobAbort(ctx, &storage.JobAbortParams{ID: p.ID, Now: t0})
	if err != nil || res.Result != storage.AbortTooLate {
		t.Fatalf("abort finished: %+v %v", res, err)
	}
	if _, err := s.JobAbort(ctx, &storage.JobAbortParams{ID: 12345}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("abort unknown: %v", err)
	}
}

func TestUniqueKey(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := context.Background()
	res, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Now: t0, Jobs: []*storage.JobInsertParams{
		{Kind: "k", Queue: "q", MaxAttempts: 1, UniqueKey: "x"},
		{Kind: "k", Queue: "q", MaxAttempts: 1, UniqueKey: "x"},
		{Kind: "k2", Queue: "q", MaxAttempts: 1, UniqueKey: "x"},
		{Kind: "k", Queue: "q", MaxAttempts: 1},
		{Kind: "k", Queue: "q", MaxAttempts: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Duplicate || !res[1].Duplicate || res[1].Job.ID != res[0].Job.ID || res[2].Duplicate || res[3].Duplicate || res[4].Duplicate {
		t.Fatalf("insert many: %+v", res)
	}
	j := claim(t, s, 1, t0).Jobs[0]
	if r, err := s.JobInsert(ctx, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, UniqueKey: "x"}); err != nil || !r.Duplicate {
		t.Fatalf("running holds the key: %+v %v", r, err)
	}
	if _, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: []storage.JobFinish{{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete}}}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.JobInsert(ctx, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, UniqueKey: "x"}); err != nil || r.Duplicate {
		t.Fatalf("finished job frees the key: %+v %v", r, err)
	}
}

func TestListAndDelete(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := context.Background()
	for i := range 10 {
		insert(t, s, storage.JobInsertParams{Queue: []string{"q", "r"}[i%2]})
	}
	l, err := s.JobList(ctx, &storage.JobListParams{Queue: "q", Limit: 3})
	if err != nil || len(l) != 3 || l[0].ID != 1 || l[2].ID != 5 {
		t.Fatalf("list: %v %v", l, err)
	}
	l, err = s.JobList(ctx, &storage.JobListParams{Queue: "q", AfterID: l[2].ID, States: []storage.State{storage.StatePending}})
	if err != nil || len(l) != 2 || l[0].ID != 7 {
		t.Fatalf("list page 2: %v %v", l, err)
	}
	r := claim(t, s, 5, t0)
	var fin []storage.JobFinish
	for _, j := range r.Jobs {
		fin = append(fin, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete})
	}
	fin[4].Delete = true
	if _, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: fin, Now: t0}); err != nil {
		t.Fatal(err)
	}
	n, err := s.JobDeleteFinished(ctx, &storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: t0.Add(time.Second), Limit: 3})
	if err != nil || n != 3 {
		t.Fatalf("delete: %d %v", n, err)
	}
	n, err = s.JobDeleteFinished(ctx, &storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: t0.Add(time.Second)})
	if err != nil || n != 1 {
		t.Fatalf("delete rest: %d %v", n, err)
	}
	if _, err := s.JobDeleteFinished(ctx, &storage.JobDeleteFinishedParams{State: storage.StatePending}); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("delete pending: %v", err)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.JobInsert(ctx, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1}); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("insert after close: %v", err)
	}
	if _, err := s.JobGet(ctx, &storage.JobGetParams{ID: 1}); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("get after close: %v", err)
	}
	if _, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 1, LeaseDuration: time.Second}); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("claim after close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	s, path := newStore(t, nil)
	if _, err := s.write.Exec(`UPDATE jobgen_schema SET version = ?`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(path, nil)
	if !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Fatalf("open newer schema: %v", err)
	}
	if want := fmt.Sprintf("database schema version %d, this version of jobgen knows up to %d; upgrade jobgen", SchemaVersion()+1, SchemaVersion()); !strings.Contains(err.Error(), want) {
		t.Fatalf("open newer schema: %q does not say %q", err, want)
	}
	// Reopening a current database migrates nothing and works.
	s2, path2 := newStore(t, nil)
	s2.Close()
	s3, err := Open(path2, nil)
	if err != nil {
		t.Fatal(err)
	}
	s3.Close()
}

// TestConcurrentClaimers checks that every job is handed out exactly once
// to claimers on separate stores (separate connections, as separate
// processes would have), and that the file is intact afterwards.
func TestConcurrentClaimers(t *testing.T) {
	t.Parallel()
	opts := &Options{BusyTimeout: 30 * time.Second} // see TestStressIntegrity
	s, path := newStore(t, opts)
	ctx := context.Background()
	const n = 2000
	var batch []*storage.JobInsertParams
	for range n {
		batch = append(batch, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1})
	}
	if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		wg   sync.WaitGroup
	)
	for w := range 4 {
		st := s
		if w%2 == 1 {
			var err error
			st, err = Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r, err := st.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 7, LeaseDuration: time.Hour})
				if err != nil {
					t.Error(err)
					return
				}
				if len(r.Jobs) == 0 {
					return
				}
				var fin []storage.JobFinish
				mu.Lock()
				for _, j := range r.Jobs {
					seen[j.ID]++
					fin = append(fin, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete})
				}
				mu.Unlock()
				res, err := st.JobFinish(ctx, &storage.JobFinishParams{Jobs: fin})
				if err != nil {
					t.Error(err)
					return
				}
				for i, ok := range res.Applied {
					if !ok {
						t.Errorf("finish of job %d not applied", fin[i].ID)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("job %d claimed %d times", id, c)
		}
	}
	integrityCheck(t, path)
}

func TestNoSQLInjection(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := context.Background()
	evil := `q'); DROP TABLE jobgen_jobs; --"` + "é" // a NUL byte is refused (storage.TextProblem)
	j := insert(t, s, storage.JobInsertParams{Kind: evil, Queue: evil, UniqueKey: evil})
	r, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: evil, Kinds: []string{evil, `"]`}, Limit: 1, LeaseDuration: time.Minute, Now: t0})
	if err != nil || len(r.Jobs) != 1 || r.Jobs[0].ID != j.ID || r.Jobs[0].Kind != evil {
		t.Fatalf("claim hostile names: %+v %v", r, err)
	}
	l, err := s.JobList(ctx, &storage.JobListParams{Queue: evil, Kind: evil, States: []storage.State{"x'"}})
	if err != nil || len(l) != 0 {
		t.Fatalf("list: %v %v", l, err)
	}
}
