package storagetest_test

import (
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
	"github.com/jobgen/jobgen/runtime/storage/storagetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the suite against the memory backend, the reference
// implementation of the contract.
func TestRun(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Storage {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}
