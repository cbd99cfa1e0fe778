package jobgenotel_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/jobgen/jobgen/jobgenotel"
	"github.com/jobgen/jobgen/runtime"
)

// meterReader reads what the recorder measured.
type meterReader struct {
	t      *testing.T
	reader *sdkmetric.ManualReader
}

// newMetrics records srv's client's jobs on a manual reader until the test ends.
func newMetrics(t *testing.T, c *runtime.Client) meterReader {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	stop, err := jobgenotel.Metrics(c, mp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return meterReader{t, reader}
}

// values returns every value of the metrics now, by metric name and then
// by the data point's attributes (see attrString): a sum's or gauge's
// value, a histogram's count.
func (m meterReader) values() map[string]map[string]float64 {
	m.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(context.Background(), &rm); err != nil {
		m.t.Fatal(err)
	}
	out := make(map[string]map[string]float64)
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			vs := make(map[string]float64)
			switch d := mt.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					vs[attrString(p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					vs[attrString(p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					vs[attrString(p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					vs[attrString(p.Attributes)] = float64(p.Count)
				}
			default:
				m.t.Fatalf("metric %s: unexpected data %T", mt.Name, mt.Data)
			}
			out[mt.Name] = vs
		}
	}
	return out
}

func attrString(s attribute.Set) string {
	var kvs []string
	for _, kv := range s.ToSlice() {
		kvs = append(kvs, string(kv.Key)+"="+kv.Value.Emit())
	}
	slices.Sort(kvs)
	return fmt.Sprint(kvs)
}

// waitFor waits until the metrics hold want (each metric's values at the
// attributes given; others are not compared), since the recorder sees
// events on a goroutine of its own, after waiters return.
func (m meterReader) waitFor(want map[string]map[string]float64) {
	m.t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		got := m.values()
		diff := ""
		for name, vs := range want {
			for attrs, v := range vs {
				if g := got[name][attrs]; g != v {
					diff += fmt.Sprintf("\n%s%s = %v, want %v", name, attrs, g, v)
				}
			}
		}
		if diff == "" {
			return
		}
		select {
		case <-deadline:
			m.t.Fatalf("metrics after 10s:%s\nall: %v", diff, got)
		case <-tick.C:
		}
	}
}

var (
	series = attrString(attribute.NewSet(jobgenotel.KindKey.String("work"), attribute.String("messaging.destination.name", "q")))
	queue  = func(q string) string {
		return attrString(attribute.NewSet(attribute.String("messaging.destination.name", q)))
	}
	byOutcome = func(o string) string {
		return attrString(attribute.NewSet(jobgenotel.KindKey.String("work"), attribute.String("messaging.destination.name", "q"), jobgenotel.OutcomeKey.String(o)))
	}
)

// TestMetrics runs jobs of every outcome and reads the counters, the
// histograms and the gauges on the way.
func TestMetrics(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	srv, blocked := newMemoryServer(t, runtime.Config{})
	c := srv.Client()
	m := newMetrics(t, c)

	for _, mode := range []string{modeOK, modeRetry, modeFail} {
		h := submit(t, ctx, c, mode, nil)
		if _, err := h.Wait(ctx); (err != nil) != (mode == modeFail) {
			t.Fatalf("%s job: %v", mode, err)
		}
	}
	m.waitFor(map[string]map[string]float64{
		jobgenotel.MetricSubmitted: {series: 3},
		jobgenotel.MetricStarted:   {series: 4},
		jobgenotel.MetricCompleted: {series: 2},
		jobgenotel.MetricRetried:   {series: 1},
		jobgenotel.MetricFailed:    {series: 1},
		jobgenotel.MetricRunDuration: {
			byOutcome("completed"): 2,
			byOutcome("retried"):   1,
			byOutcome("failed"):    1,
		},
		jobgenotel.MetricQueueWait:  {series: 4},
		jobgenotel.MetricQueueDepth: {queue("q"): 0},
		jobgenotel.MetricRunning:    {queue("q"): 0},
	})

	// A running job, a deferred one, and one in a queue nobody works.
	running := submit(t, ctx, c, modeBlock, nil)
	<-blocked
	deferred := submit(t, ctx, c, modeOK, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)})
	submit(t, ctx, c, modeOK, &runtime.SubmitOpts{Queue: "idle"})
	m.waitFor(map[string]map[string]float64{
		jobgenotel.MetricSubmitted:   {series: 5},
		jobgenotel.MetricStarted:     {series: 5},
		jobgenotel.MetricQueueDepth:  {queue("q"): 1, queue("idle"): 1},
		jobgenotel.MetricOldestReady: {queue("q"): 0},
		jobgenotel.MetricRunning:     {queue("q"): 1, queue("idle"): 0},
	})
	for _, h := range []*runtime.Handle[runtime.NoOutput]{running, deferred} {
		if err := h.Abort(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Wait(ctx); err == nil {
			t.Fatalf("job %d completed after its abort", h.ID)
		}
	}
	m.waitFor(map[string]map[string]float64{
		jobgenotel.MetricAborted:     {series: 2},
		jobgenotel.MetricRunDuration: {byOutcome("aborted"): 1},
		jobgenotel.MetricQueueWait:   {series: 5},
		jobgenotel.MetricQueueDepth:  {queue("q"): 0, queue("idle"): 1},
		jobgenotel.MetricRunning:     {queue("q"): 0},
	})
	if age := m.values()[jobgenotel.MetricOldestReady][queue("idle")]; age <= 0 {
		t.Errorf("oldest ready job of the idle queue waited %vs, want more than 0", age)
	}
}

// TestMetricsQueueWaitAcrossProcesses: a server's metrics time the queue
// wait of a job a detached client submitted over another store, whose
// submit the server's client never saw.
func TestMetricsQueueWaitAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	store := newMemoryStore(t)
	srv, _ := startServer(t, store, runtime.Config{})
	m := newMetrics(t, srv.Client())
	peer := store.Peer()
	t.Cleanup(func() { peer.Close() })
	detached, err := runtime.NewClient(peer, runtime.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer detached.Close()
	h := submit(t, ctx, detached, modeOK, nil)
	if _, err := h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	m.waitFor(map[string]map[string]float64{
		jobgenotel.MetricStarted:   {series: 1},
		jobgenotel.MetricQueueWait: {series: 1},
	})
	if n := m.values()[jobgenotel.MetricSubmitted][series]; n != 0 {
		t.Errorf("%s = %v, want 0: the server's client did not submit", jobgenotel.MetricSubmitted, n)
	}
}
