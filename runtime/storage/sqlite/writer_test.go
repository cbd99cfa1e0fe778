package sqlite

import (
	"context"
	"errors"
	"sync"
	"testing"

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
