package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/jobgen/jobgen/runtime/runtimetest"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/storagetest"
)

// newTestStore opens a fresh database file for one test.
func newTestStore(t *testing.T) storage.Storage {
	s, err := Open(filepath.Join(t.TempDir(), "jobs.db"), nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, newTestStore)
}

func TestRuntime(t *testing.T) {
	t.Parallel()
	runtimetest.Run(t, newTestStore)
}
