package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jobgen/jobgen/runtime/storage"
)

// queueInserts starts one JobInsert per params while the store's inserter
// is held busy, waits until all are queued, then lets them go as one
// batch, and returns each call's result and error.
func queueInserts(t *testing.T, s *Store, ps []*storage.JobInsertParams) ([]*storage.JobInsertResult, []error) {
	t.Helper()
	in := &s.inserter
	in.mu.Lock()
	if in.running {
		in.mu.Unlock()
		t.Fatal("inserter busy")
	}
	in.running = true
	in.mu.Unlock()
	res, errs := make([]*storage.JobInsertResult, len(ps)), make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { res[i], errs[i] = s.JobInsert(t.Context(), p) })
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		in.mu.Lock()
		n := len(in.queue)
		in.mu.Unlock()
		if n == len(ps) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d inserts queued", n, len(ps))
		}
	}
	s.insertsDone()
	wg.Wait()
	return res, errs
}

// TestInsertsCoalesced: concurrent single inserts are written together, in
// one statement, and each caller gets its own job, stored as asked; a
// unique key lost to a job of the same batch is reported as a duplicate.
func TestInsertsCoalesced(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ps := make([]*storage.JobInsertParams, 20)
	for i := range ps {
		ps[i] = insertParams("q", "k")
		ps[i].Priority = i
	}
	ps[3].UniqueKey, ps[7].UniqueKey = "same", "same"
	res, errs := queueInserts(t, s, ps)
	ids := make(map[int64]bool)
	dups := 0
	for i, r := range res {
		if errs[i] != nil {
			t.Fatalf("insert %d: %v", i, errs[i])
		}
		if r.Duplicate {
			dups++
			if r.Job.UniqueKey != "same" {
				t.Errorf("insert %d reported a duplicate of %+v", i, r.Job)
			}
			continue
		}
		if r.Job.Priority != i || ids[r.Job.ID] {
			t.Errorf("insert %d got job %+v", i, r.Job)
		}
		ids[r.Job.ID] = true
		got, err := s.JobGet(t.Context(), &storage.JobGetParams{ID: r.Job.ID})
		if err != nil || got.Priority != i || got.State != storage.StatePending {
			t.Errorf("job %d of insert %d stored as %+v, %v", r.Job.ID, i, got, err)
		}
	}
	if dups != 1 || len(ids) != len(ps)-1 {
		t.Errorf("%d jobs and %d duplicates, want %d and 1", len(ids), dups, len(ps)-1)
	}
}

// TestInsertsCoalescedIsolateErrors: a job the server refuses fails its
// own caller only; the others of its batch are written.
func TestInsertsCoalescedIsolateErrors(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ps := make([]*storage.JobInsertParams, 5)
	for i := range ps {
		ps[i] = insertParams("q", "k")
	}
	ps[2].UniqueKey = "bad\xff" // not UTF-8: the server refuses the text
	res, errs := queueInserts(t, s, ps)
	for i := range ps {
		var pgErr *pgconn.PgError
		switch {
		case i == 2 && !errors.As(errs[i], &pgErr):
			t.Errorf("insert of an invalid unique key: %v, want the server's error", errs[i])
		case i != 2 && (errs[i] != nil || res[i].Job == nil):
			t.Errorf("insert %d: %v", i, errs[i])
		}
	}
}

// TestInsertCoalescedCancelled: a caller whose context ends stops waiting;
// the store stays usable.
func TestInsertCoalescedCancelled(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.JobInsert(ctx, insertParams("q", "k")); !errors.Is(err, context.Canceled) {
		t.Errorf("insert with a cancelled context: %v", err)
	}
	mustInsert(t, s, insertParams("q", "k"))
}
