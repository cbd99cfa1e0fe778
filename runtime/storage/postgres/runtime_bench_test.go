package postgres

import (
	"testing"

	"github.com/jobgen/jobgen/runtime/runtimetest"
	"github.com/jobgen/jobgen/runtime/storage"
)

// BenchmarkRuntime runs the runtime benchmarks (see runtimetest.Benchmark)
// over a fresh schema each, with synchronous_commit on (the server's
// default).
func BenchmarkRuntime(b *testing.B) {
	runtimetest.Benchmark(b, func(b *testing.B) storage.Storage { return newTestStore(b) })
}
