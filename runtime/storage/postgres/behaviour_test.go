package postgres

import (
	"testing"

	"github.com/jobgen/jobgen/runtime/runtimetest"
	"github.com/jobgen/jobgen/runtime/storage"
)

// TestRuntimeBehaviour runs the runtime's behaviour suite over this store.
func TestRuntimeBehaviour(t *testing.T) {
	t.Parallel()
	sharedPool(t)
	runtimetest.Run(t, func(t *testing.T) storage.Storage { return newTestStore(t) })
}
