package sqlite

import (
	"testing"

	"github.com/jobgen/jobgen/runtime/runtimetest"
	"github.com/jobgen/jobgen/runtime/storage"
)

// BenchmarkRuntime runs the runtime benchmarks (see runtimetest.Benchmark)
// on a fresh database file each.
func BenchmarkRuntime(b *testing.B) {
	runtimetest.Benchmark(b, func(b *testing.B) storage.Storage {
		s, _ := newStore(b, nil)
		return s
	})
}
