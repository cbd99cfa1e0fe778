package backendtest

import (
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// OpsQuery is one filtered listing of the operations benchmarks and plan
// tests.
type OpsQuery struct {
	Name   string
	Filter storage.JobFilter
}

// OpsQueries are the listings the operations benchmarks and plan tests run,
// on a table of jobs spread over queues queue0 to queue9 and kinds kind0 to
// kind19.
var OpsQueries = []OpsQuery{
	{"all", storage.JobFilter{}},
	{"failed", storage.JobFilter{States: []storage.State{storage.StateFailed}}},
	{"failed_aborted", storage.JobFilter{States: []storage.State{storage.StateFailed, storage.StateAborted}}},
	{"queue", storage.JobFilter{Queues: []string{"queue3"}}},
	{"queue_pending", storage.JobFilter{Queues: []string{"queue3"}, States: []storage.State{storage.StatePending}}},
	{"kind_failed", storage.JobFilter{Kinds: []string{"kind7"}, States: []storage.State{storage.StateFailed}}},
	{"kind_created", storage.JobFilter{Kinds: []string{"kind7"}, CreatedBefore: time.Now().Add(-10 * time.Minute)}},
}

// BenchOps measures on s, a filled store, the first page of 50 jobs of
// each of OpsQueries (List/<name>) and the counts (Count).
func BenchOps(b *testing.B, s storage.Storage) {
	for _, q := range OpsQueries {
		p := &storage.JobQueryParams{Filter: q.Filter, Limit: 50}
		b.Run("List/"+q.Name, func(b *testing.B) {
			for b.Loop() {
				res, err := s.JobQuery(b.Context(), p)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Jobs) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
	b.Run("Count", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.JobCount(b.Context(), &storage.JobCountParams{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
