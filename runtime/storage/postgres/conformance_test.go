package postgres

import (
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/storagetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	sharedPool(t)
	storagetest.Run(t, func(t *testing.T) storage.Storage { return newTestStore(t) })
}
