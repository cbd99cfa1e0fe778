package postgres

import (
	"testing"

	"github.com/jobgen/jobgen/runtime"
)

// benchResize is the arguments of the SubmitMany benchmark's kind: a
// typical small job.
type benchResize struct {
	URL   string `json:"url"`
	Width int    `json:"width"`
}

var benchResizeKind = runtime.NewKind[benchResize, runtime.NoOutput](runtime.KindOpts{Name: "resize"})

// BenchmarkSubmitMany1000 submits batches of 1,000 jobs through a typed
// client's SubmitMany on a detached client: encoding, checks and the one
// JobInsertMany.
func BenchmarkSubmitMany1000(b *testing.B) {
	s := newTestStore(b)
	c, err := runtime.NewClient(s, runtime.ClientConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	jobs := runtime.NewNoOutputClient(benchResizeKind, c)
	batch := make([]benchResize, 1000)
	for i := range batch {
		batch[i] = benchResize{URL: "https://example.com/a.png", Width: i}
	}
	ctx := b.Context()
	for b.Loop() {
		if _, err := jobs.SubmitMany(ctx, batch, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "jobs/s")
}
