package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// TestGroupCommitIsolation runs failing and succeeding writes at once, so
// they share transactions: a failing call is rolled back alone.
func TestGroupCommitIsolation(t *testing.T) {
	t.Parallel()
	s, path := newStore(t, nil)
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := s.JobInsert(ctx, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, UniqueKey: string(rune('a' + i%26))})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := s.JobAbort(ctx, &storage.JobAbortParams{ID: int64(1_000_000 + i)})
			if !errors.Is(err, storage.ErrNotFound) {
				errs <- err
				return
			}
			errs <- nil
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.JobList(ctx, &storage.JobListParams{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 26 {
		t.Fatalf("%d jobs stored, want 26 (one per unique key)", len(l))
	}
	integrityCheck(t, path)
}

func TestCancelledCallWritesNothing(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.JobInsert(ctx, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("insert with a cancelled context: %v", err)
	}
	l, err := s.JobList(context.Background(), &storage.JobListParams{})
	if err != nil || len(l) != 0 {
		t.Fatalf("list: %v %v", l, err)
	}
}

// TestCloseWhileWriting closes the store under concurrent writes: every
// call returns success or ErrClosed, and none hangs.
func TestCloseWhileWriting(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16*50)
	started := make(chan struct{}, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			for range 50 {
				_, err := s.JobInsert(ctx, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 16 {
		<-started
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, storage.ErrClosed) {
			t.Fatalf("write racing Close: %v, want ErrClosed", err)
		}
	}
}

// TestWALStaysBounded pins a reader's snapshot while writes pile up in the
// WAL (no checkpoint can pass it), then lets go: the log is checkpointed
// and its file cut back to walFileLimit.
func TestWALStaysBounded(t *testing.T) {
	t.Parallel()
	s, path := newStore(t, nil)
	ctx := context.Background()
	reader, err := sql.Open("sqlite3", "file:"+escapePath(path))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	tx, err := reader.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM jobgen_jobs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	batch := make([]*storage.JobInsertParams, 20)
	for i := range batch {
		batch[i] = &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, Input: make([]byte, 2000)}
	}
	insert := func() {
		if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
			t.Fatal(err)
		}
	}
	for walSize() <= 2*walFileLimit {
		insert()
	}
	tx.Rollback()
	limit := time.Now().Add(30 * time.Second)
	for walSize() > walFileLimit {
		if time.Now().After(limit) {
			t.Fatalf("WAL still %d bytes", walSize())
		}
		insert()
	}
}
