package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
)

// A Tx begun with a context that ends is rolled back: its jobs never
// exist, Commit fails, and nothing arranged for the commit runs.
func TestTxContextEndsRollsBack(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	tx, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.Jobs().JobInsert(t.Context(), &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	if !tx.Jobs().AfterCommit(func() { ran = true }) {
		t.Fatal("AfterCommit on an open Tx's view = false, want true")
	}
	cancel()
	if err := tx.Commit(); !errors.Is(err, sql.ErrTxDone) && !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit after the context ended: %v, want sql.ErrTxDone or context.Canceled", err)
	}
	if ran {
		t.Fatal("a hook of a rolled-back transaction ran")
	}
	if _, err := s.JobGet(t.Context(), &storage.JobGetParams{ID: res.Job.ID}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("JobGet of the rolled-back job: %v, want ErrNotFound", err)
	}
	if s.AfterCommit(func() {}) {
		t.Fatal("AfterCommit on the store itself = true, want false")
	}
}

// The view's Close leaves the store open; Begin after the store's Close
// fails with ErrClosed.
func TestTxCloseAndBegin(t *testing.T) {
	s, _ := newStore(t, nil)
	tx, err := s.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Jobs().Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	insert(t, s, storage.JobInsertParams{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(t.Context()); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Begin after Close: %v, want ErrClosed", err)
	}
}
