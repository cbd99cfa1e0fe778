package runtime_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/runtime/runtimetest"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBehaviourOnMemory(t *testing.T) {
	runtimetest.Run(t, func(t *testing.T) storage.Storage {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}
