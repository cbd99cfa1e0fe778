package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

func insertParams(queue, kind string) *storage.JobInsertParams {
	return &storage.JobInsertParams{Kind: kind, Queue: queue, Input: []byte(`{}`), MaxAttempts: 3}
}

func mustInsert(t testing.TB, s *Store, p *storage.JobInsertParams) *storage.Job {
	t.Helper()
	res, err := s.JobInsert(context.Background(), p)
	if err != nil {
		t.Fatalf("JobInsert: %v", err)
	}
	return res.Job
}

func TestOptionsValidated(t *testing.T) {
	t.Parallel()
	for _, o := range []*Options{
		{Schema: "1abc"},
		{Schema: `a"b`},
		{Schema: "a b"},
		{Schema: strings.Repeat("a", 64)},
		{TablePrefix: "x-"},
		{TablePrefix: strings.Repeat("p", maxPrefixLen+1)},
	} {
		if _, err := MigrationSQL(o); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("MigrationSQL(%+v) error = %v, want storage.ErrInvalid", o, err)
		}
	}
	sql, err := MigrationSQL(&Options{Schema: "Jobs", TablePrefix: "app_"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sql, `"Jobs"."app_jobgen_jobs"`) {
		t.Errorf("MigrationSQL does not name the quoted, prefixed table:\n%s", sql)
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	// Migrating again is a no-op.
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var v int
	if err := s.pool.QueryRow(ctx, "SELECT max(version) FROM "+s.n.version).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion {
		t.Errorf("schema version %d, want %d", v, SchemaVersion)
	}
	// A database from the future is refused.
	if _, err := s.pool.Exec(ctx, "INSERT INTO "+s.n.version+" (version, name) VALUES ($1, 'future')", SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Errorf("Migrate on a newer schema: %v, want storage.ErrSchemaTooNew", err)
	}
	_, err := Connect(ctx, testDSN(t), &Options{Schema: s.n.schema})
	if !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Errorf("Connect on a newer schema: %v, want storage.ErrSchemaTooNew", err)
	}
}

func TestDatabaseVersion(t *testing.T) {
	t.Parallel()
	pool := sharedPool(t)
	ctx := t.Context()
	schema := randomSchema()
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	s, err := New(pool, &Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, step := range []struct {
		name string
		do   func() error
		want int
	}{
		{"never migrated", func() error { return nil }, 0},
		{"migrated", func() error { return s.Migrate(ctx) }, SchemaVersion},
		{"migrated by a newer jobgen", func() error {
			_, err := pool.Exec(ctx, "INSERT INTO "+s.n.version+" (version, name) VALUES ($1, 'future')", SchemaVersion+1)
			return err
		}, SchemaVersion + 1},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if v, err := s.DatabaseVersion(ctx); err != nil || v != step.want {
			t.Fatalf("%s: DatabaseVersion = %d, %v; want %d", step.name, v, err, step.want)
		}
	}
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.n.jobs).Scan(&exists); err != nil || !exists {
		t.Fatalf("jobs table after Migrate: %v, %v", exists, err)
	}
	s.Close()
	if _, err := s.DatabaseVersion(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("DatabaseVersion after Close: %v, want ErrClosed", err)
	}
}

func TestMigrationSQL(t *testing.T) {
	t.Parallel()
	pool := sharedPool(t)
	ctx := t.Context()
	schema := randomSchema()
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	opts := &Options{Schema: schema, TablePrefix: "app_"}
	sql, err := MigrationSQL(opts)
	if err != nil {
		t.Fatal(err)
	}
	// The script is idempotent and leaves a schema Migrate accepts as is.
	for range 2 {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("applying MigrationSQL: %v", err)
		}
	}
	s, err := New(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.checkVersion(ctx, pool); err != nil || v != SchemaVersion {
		t.Fatalf("version after MigrationSQL = %d, %v; want %d", v, err, SchemaVersion)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, s, insertParams("q", "k"))
}

func TestConnect(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	pool := sharedPool(t)
	ctx := t.Context()
	schema := randomSchema()
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	s, err := Connect(ctx, dsn+"&pool_max_conns=2", &Options{Schema: schema, AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	j := mustInsert(t, s, insertParams("q", "k"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JobGet(ctx, &storage.JobGetParams{ID: j.ID}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("JobGet after Close: %v, want storage.ErrClosed", err)
	}
	if _, err := s.Subscribe(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Subscribe after Close: %v, want storage.ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestUserPoolClosed(t *testing.T) {
	t.Parallel()
	pool, err := openPool(testDSN(t), 2)
	if err != nil {
		unreachable(t, err)
	}
	s := newTestStoreOn(t, sharedPool(t))
	other, err := New(pool, &Options{Schema: s.n.schema})
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	if _, err := other.JobGet(t.Context(), &storage.JobGetParams{ID: 1}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("JobGet on a closed pool: %v, want storage.ErrClosed", err)
	}
}

func TestWithTx(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	for _, commit := range []bool{false, true} {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		j := mustInsert(t, s.WithTx(tx), insertParams("q", "k"))
		// Invisible outside the transaction until it commits.
		if _, err := s.JobGet(ctx, &storage.JobGetParams{ID: j.ID}); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("JobGet outside the open transaction: %v, want storage.ErrNotFound", err)
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.JobGet(ctx, &storage.JobGetParams{ID: j.ID})
		if commit && err != nil {
			t.Errorf("JobGet after commit: %v", err)
		}
		if !commit && !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("JobGet after rollback: %v, want storage.ErrNotFound", err)
		}
	}
}

func TestFinishSameIDTwice(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	mustInsert(t, s, insertParams("q", "k"))
	res, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 1, LeaseDuration: time.Minute})
	if err != nil || len(res.Jobs) != 1 {
		t.Fatalf("claim: %v, %d jobs", err, len(res.Jobs))
	}
	j := res.Jobs[0]
	// In order: a stale entry, the good one, then a repeat that is stale by now.
	fin, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: []storage.JobFinish{
		{ID: j.ID, LeaseToken: j.LeaseToken + 1, Outcome: storage.OutcomeFail},
		{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete},
		{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeFail},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(fin.Applied); got != "[false true false]" {
		t.Errorf("Applied = %s, want [false true false]", got)
	}
}

func TestDatabaseClock(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	var dbNow time.Time
	if err := s.pool.QueryRow(ctx, "SELECT now()").Scan(&dbNow); err != nil {
		t.Fatal(err)
	}
	j := mustInsert(t, s, insertParams("q", "k"))
	if d := j.CreatedAt.Sub(dbNow); d < -time.Minute || d > time.Minute {
		t.Errorf("CreatedAt %v is far from the database clock %v", j.CreatedAt, dbNow)
	}
	if j.CreatedAt.Location() != time.UTC || !j.RunAfter.Equal(j.CreatedAt) {
		t.Errorf("CreatedAt %v, RunAfter %v: want equal UTC times", j.CreatedAt, j.RunAfter)
	}
	res, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 10, LeaseDuration: time.Minute})
	if err != nil || len(res.Jobs) != 1 {
		t.Fatalf("claim: %v, %+v", err, res)
	}
	if got := res.Jobs[0].LeaseExpiresAt.Sub(res.Now); got != time.Minute {
		t.Errorf("lease runs %v past the claim's Now, want 1m", got)
	}
}

// TestConcurrentClaimers claims from many goroutines over the pool and
// checks that every job is handed out exactly once.
func TestConcurrentClaimers(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	const jobs = 2000
	batch := make([]*storage.JobInsertParams, jobs)
	for i := range batch {
		batch[i] = insertParams("q", "k")
	}
	if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen = make(map[int64]int)
		wg   sync.WaitGroup
	)
	for range 6 {
		wg.Go(func() {
			for {
				res, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 25, LeaseDuration: time.Minute})
				if err != nil {
					t.Error(err)
					return
				}
				if len(res.Jobs) == 0 {
					return
				}
				fs := make([]storage.JobFinish, len(res.Jobs))
				mu.Lock()
				for i, j := range res.Jobs {
					seen[j.ID]++
					fs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete}
				}
				mu.Unlock()
				fin, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: fs})
				if err != nil {
					t.Error(err)
					return
				}
				for i, ok := range fin.Applied {
					if !ok {
						t.Errorf("finish of job %d not applied", fs[i].ID)
					}
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != jobs {
		t.Errorf("claimed %d distinct jobs, want %d", len(seen), jobs)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("job %d claimed %d times", id, n)
		}
	}
}

// TestClaimSkipsLockedHead: a row locked by another session is skipped,
// not waited for.
func TestClaimSkipsLockedHead(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	head := mustInsert(t, s, insertParams("q", "k"))
	next := mustInsert(t, s, insertParams("q", "k"))
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+s.n.jobs+" WHERE id = $1 FOR UPDATE", head.ID); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := s.JobClaim(cctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 1, LeaseDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 1 || res.Jobs[0].ID != next.ID {
		t.Errorf("claimed %v, want job %d", res.Jobs, next.ID)
	}
}

// TestInsertOneMatchesBatch: a job inserted alone (the single-row
// statement) is stored exactly as the same job inserted in a batch, and a
// single insert that loses on its unique key returns the holder.
func TestInsertOneMatchesBatch(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	for _, p := range []*storage.JobInsertParams{
		insertParams("q", "k"),
		{Kind: "k", Queue: "q", Priority: -7, MaxAttempts: 5, RunAfter: now.Add(time.Hour), Deadline: now.Add(2 * time.Hour),
			Timeout: 3 * time.Second, UniqueKey: "u1", Now: now},
		{Kind: "k", Queue: "q2", MaxAttempts: 1, Now: now},
	} {
		one, err := s.JobInsert(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		q := *p
		if q.UniqueKey != "" {
			q.UniqueKey += "-batch"
		}
		many, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: []*storage.JobInsertParams{&q, insertParams("other", "k")}})
		if err != nil {
			t.Fatal(err)
		}
		a, b := one.Job.Clone(), many[0].Job.Clone()
		if one.Duplicate || many[0].Duplicate || a.ID == b.ID {
			t.Fatalf("single %+v, batch %+v", one, many[0])
		}
		b.ID, b.UniqueKey = a.ID, p.UniqueKey
		if p.Now.IsZero() { // two statements, two clocks
			b.CreatedAt, b.RunAfter = a.CreatedAt, a.RunAfter
		}
		if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", b) {
			t.Errorf("single insert stored\n%+v\nbatch insert stored\n%+v", a, b)
		}
		if got, err := s.JobGet(ctx, &storage.JobGetParams{ID: a.ID}); err != nil || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", a) {
			t.Errorf("single insert returned\n%+v\nstored\n%+v (%v)", a, got, err)
		}
	}
	dup, err := s.JobInsert(ctx, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, UniqueKey: "u1"})
	if err != nil || !dup.Duplicate || dup.Job.UniqueKey != "u1" || dup.Job.Priority != -7 {
		t.Fatalf("duplicate single insert: %+v, %v", dup, err)
	}
}

// TestFinishFencedAgainstConcurrentWrite: a finish that waits for a row
// another transaction is changing applies to the row's newest version:
// after a heartbeat (same token) it applies, after a finish by that
// transaction (token cleared) it does not. This holds for each of the
// store's finish statements: update-only, delete-only and mixed rounds.
func TestFinishFencedAgainstConcurrentWrite(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	claim := func(n int) []*storage.ClaimedJob {
		t.Helper()
		for range n {
			mustInsert(t, s, insertParams("q", "k"))
		}
		res, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: n, LeaseDuration: time.Minute})
		if err != nil || len(res.Jobs) != n {
			t.Fatalf("claim: %v, %d jobs, want %d", err, len(res.Jobs), n)
		}
		return res.Jobs
	}
	for _, round := range []struct {
		name    string
		deletes []bool // per job: whether its finish deletes the row
	}{
		{"update", []bool{false, false}},
		{"delete", []bool{true, true}},
		{"mixed", []bool{false, true}},
		{"update one", []bool{false}},
		{"delete one", []bool{true}},
	} {
		for _, otherFinishes := range []bool{false, true} {
			js := claim(len(round.deletes))
			// Another transaction writes the first job's row and holds its lock.
			tx, err := s.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			other := s.WithTx(tx)
			if otherFinishes {
				_, err = other.JobFinish(ctx, &storage.JobFinishParams{Jobs: []storage.JobFinish{
					{ID: js[0].ID, LeaseToken: js[0].LeaseToken, Outcome: storage.OutcomeFail, ErrorMessage: "other"}}})
			} else {
				_, err = other.JobHeartbeat(ctx, &storage.JobHeartbeatParams{
					Leases: []storage.Lease{{ID: js[0].ID, Token: js[0].LeaseToken}}, LeaseDuration: time.Hour})
			}
			if err != nil {
				t.Fatal(err)
			}
			fs := make([]storage.JobFinish, len(js))
			for i, j := range js {
				fs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Delete: round.deletes[i]}
			}
			done := make(chan *storage.JobFinishResult, 1)
			go func() {
				res, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: fs})
				if err != nil {
					t.Error(err)
				}
				done <- res
			}()
			waitForLockWait(t, s)
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			res := <-done
			if res == nil {
				t.FailNow()
			}
			want := slices.Repeat([]bool{true}, len(js))
			want[0] = !otherFinishes
			if !slices.Equal(res.Applied, want) {
				t.Errorf("%s round after the other transaction's %s: Applied = %v, want %v",
					round.name, map[bool]string{false: "heartbeat", true: "finish"}[otherFinishes], res.Applied, want)
			}
			first, err := s.JobGet(ctx, &storage.JobGetParams{ID: js[0].ID})
			switch {
			case otherFinishes && (err != nil || first.State != storage.StateFailed):
				t.Errorf("%s round: first job %+v, %v; want it failed by the other transaction", round.name, first, err)
			case !otherFinishes && round.deletes[0] && !errors.Is(err, storage.ErrNotFound):
				t.Errorf("%s round: first job %+v, %v; want it deleted", round.name, first, err)
			case !otherFinishes && !round.deletes[0] && (err != nil || first.State != storage.StateCompleted):
				t.Errorf("%s round: first job %+v, %v; want it completed", round.name, first, err)
			}
		}
	}
}

// waitForLockWait returns once a session waits for a lock on s's jobs.
func waitForLockWait(t *testing.T, s *Store) {
	t.Helper()
	waitUntil(t, "a session waits for a row lock", func() bool {
		var waiting bool
		err := s.pool.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, $1) > 0)`, s.n.jobs).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		return waiting
	})
}
