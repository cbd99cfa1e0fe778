package sqlite

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/jobgen/jobgen/runtime/runtimetest"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/storagetest"
)

// backend opens a fresh database file per store, and more stores on the
// same file for other processes.
var backend = storagetest.Backend{
	New: func(t *testing.T) storage.Storage {
		s, path := newStore(t, nil)
		files.Store(s, path)
		t.Cleanup(func() { files.Delete(s) })
		return s
	},
	Open: func(t *testing.T, s storage.Storage) storage.Storage {
		path, _ := files.Load(s)
		return openStore(t, path.(string))
	},
	Begin: beginTx,
}

// files maps the stores of backend.New to their database files.
var files sync.Map

func TestConformance(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, backend)
}

func TestRuntime(t *testing.T) {
	t.Parallel()
	runtimetest.Run(t, backend)
}

// openStore opens the database at path for one test.
func openStore(t *testing.T, path string) *Store {
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("open %s: %v", filepath.Base(path), err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// beginTx begins a transaction of sqlite store s for the suites.
func beginTx(t *testing.T, s storage.Storage) *storagetest.Tx {
	tx, err := s.(*Store).Begin(t.Context())
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return &storagetest.Tx{Jobs: tx.Jobs(), Commit: tx.Commit, Rollback: tx.Rollback}
}
