package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// hostile holds BEGIN IMMEDIATE on path from a separate connection for hold
// at a time, pausing gap between holds, until the returned stop is called.
// The first hold has started when hostile returns.
func hostile(t *testing.T, path string, hold, gap time.Duration) (stop func()) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+escapePath(path)+"?_busy_timeout=10000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	done := make(chan struct{})
	exited := make(chan struct{})
	started := make(chan struct{})
	go func() {
		defer close(exited)
		first := true
		for {
			tx, err := db.Begin()
			if err != nil {
				t.Errorf("hostile begin: %v", err)
				return
			}
			if _, err := tx.Exec(`UPDATE jobgen_meta SET value = value WHERE key = 'lease_token'`); err != nil {
				t.Errorf("hostile write: %v", err)
			}
			if first {
				close(started)
				first = false
			}
			select {
			case <-done:
			case <-time.After(hold):
			}
			tx.Rollback()
			select {
			case <-done:
				return
			case <-time.After(gap):
			}
		}
	}()
	select {
	case <-started:
	case <-exited:
		t.Fatal("hostile connection failed to start")
	}
	return func() {
		close(done)
		<-exited
		db.Close()
	}
}

func TestBusyWaitsWithinTimeout(t *testing.T) {
	t.Parallel()
	s, path := newStore(t, nil)
	ctx := context.Background()
	stop := hostile(t, path, 200*time.Millisecond, 100*time.Millisecond)
	defer stop()
	deadline := time.Now().Add(1500 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		if _, err := s.JobInsert(ctx, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1}); err != nil {
			t.Fatalf("insert under contention: %v", err)
		}
		r, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 10, LeaseDuration: time.Minute})
		if err != nil {
			t.Fatalf("claim under contention: %v", err)
		}
		var fin []storage.JobFinish
		for _, j := range r.Jobs {
			fin = append(fin, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete})
		}
		res, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: fin})
		if err != nil {
			t.Fatalf("finish under contention: %v", err)
		}
		for i, ok := range res.Applied {
			if !ok {
				t.Fatalf("finish of job %d not applied", fin[i].ID)
			}
		}
		if _, err := s.JobList(ctx, &storage.JobListParams{}); err != nil {
			t.Fatalf("list under contention: %v", err)
		}
		n += len(fin)
	}
	if n == 0 {
		t.Fatal("no job got through")
	}
}

func TestBusyTimeoutReturnsErrBusy(t *testing.T) {
	t.Parallel()
	s, path := newStore(t, &Options{BusyTimeout: 50 * time.Millisecond})
	stop := hostile(t, path, 500*time.Millisecond, 10*time.Millisecond)
	defer stop()
	_, err := s.JobInsert(context.Background(), &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1})
	if !errors.Is(err, storage.ErrBusy) {
		t.Fatalf("insert against a held lock: %v, want ErrBusy", err)
	}
	t.Log(err)
	// Readers are not blocked by the writer in WAL mode.
	if _, err := s.JobList(context.Background(), &storage.JobListParams{}); err != nil {
		t.Fatalf("list against a held write lock: %v", err)
	}
}
