package dashboard

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// benchJobs is the size of the benchmarks' job table.
const benchJobs = 1_000_000

// benchPages measures the server time of the pages over store, which holds
// benchJobs jobs as the backends' operations benchmarks fill them: 10
// queues, 20 kinds; 90% completed, 5% pending, 3% failed, 1% aborted, 1%
// running. The dashboard runs on a detached client, as in a process of
// its own.
func benchPages(b *testing.B, store storage.Storage) {
	client, err := runtime.NewClient(store, runtime.ClientConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	dash, err := New(client, &Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer dash.Close()
	failed, err := client.List(context.Background(), &runtime.ListOpts{Filter: runtime.JobFilter{States: []storage.State{storage.StateFailed}}, Limit: pageSize})
	if err != nil || failed.Next == "" {
		b.Fatalf("first page of failed jobs: %v", err)
	}
	for _, p := range []struct{ name, path string }{
		{"jobs", "/jobs"},
		{"jobs_failed", "/jobs?state=failed"},
		{"jobs_failed_page2", "/jobs?state=failed&cursor=" + failed.Next},
		{"jobs_queue_pending", "/jobs?queue=queue3&state=pending"},
		{"jobs_kind_failed", "/jobs?kind=kind7&state=failed"},
		{"jobs_queue_kind", "/jobs?queue=queue3&kind=kind7"},
		{"jobs_unique_key", "/jobs?kind=kind7&key=no-such-key"},
		{"job", fmt.Sprintf("/jobs/%d", benchJobs/2)},
		{"queues", "/"},
	} {
		req := httptest.NewRequest(http.MethodGet, p.path, nil)
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				dash.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: status %d", p.path, rec.Code)
				}
			}
		})
	}
}
