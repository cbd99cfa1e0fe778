package memory_test

import (
	"testing"

	"github.com/jobgen/jobgen/runtime/runtimetest"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
	"github.com/jobgen/jobgen/runtime/storage/storagetest"
)

// backend opens fresh stores, and peers of them for other processes.
var backend = storagetest.Backend{
	New: func(t *testing.T) storage.Storage {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	},
	Open: func(t *testing.T, s storage.Storage) storage.Storage {
		p := s.(*memory.Store).Peer()
		t.Cleanup(func() { p.Close() })
		return p
	},
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, backend)
}

func TestRuntime(t *testing.T) {
	t.Parallel()
	runtimetest.Run(t, backend)
}
