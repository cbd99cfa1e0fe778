package postgres

import (
	"context"
	"testing"

	"github.com/jobgen/jobgen/runtime/runtimetest"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/storagetest"
)

// backend opens a store in a fresh schema per test, and more stores on the
// same schema for other processes, each with a LISTEN connection of its own.
var backend = storagetest.Backend{
	New: func(t *testing.T) storage.Storage { return newTestStore(t) },
	Open: func(t *testing.T, s storage.Storage) storage.Storage {
		o, err := New(sharedPool(t), &Options{Schema: s.(*Store).n.schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		return o
	},
	Begin: func(t *testing.T, s storage.Storage) *storagetest.Tx {
		st := s.(*Store)
		tx, err := st.Pool().Begin(t.Context())
		if err != nil {
			t.Fatalf("begin: %v", err)
		}
		t.Cleanup(func() { tx.Rollback(context.Background()) })
		return &storagetest.Tx{
			Jobs:     st.WithTx(tx),
			Commit:   func() error { return tx.Commit(context.Background()) },
			Rollback: func() error { return tx.Rollback(context.Background()) },
		}
	},
}

func TestConformance(t *testing.T) {
	t.Parallel()
	sharedPool(t)
	storagetest.Run(t, backend)
}

func TestRuntime(t *testing.T) {
	t.Parallel()
	sharedPool(t)
	runtimetest.Run(t, backend)
}
