package jobgenotel

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// Metric names. The Prometheus exporter shows them with dots as
// underscores, a "_total" suffix on counters and the unit on histograms:
// jobgen_jobs_submitted_total, jobgen_job_run_duration_seconds.
const (
	MetricSubmitted   = "jobgen.jobs.submitted"
	MetricStarted     = "jobgen.jobs.started"
	MetricCompleted   = "jobgen.jobs.completed"
	MetricFailed      = "jobgen.jobs.failed"
	MetricRetried     = "jobgen.jobs.retried"
	MetricAborted     = "jobgen.jobs.aborted"
	MetricRunDuration = "jobgen.job.run.duration"
	MetricQueueWait   = "jobgen.job.queue.wait"
	MetricQueueDepth  = "jobgen.queue.depth"
	MetricRunning     = "jobgen.jobs.running"
	MetricOldestReady = "jobgen.queue.oldest_ready.age"
)

// durationBuckets are the histograms' bucket bounds in seconds: from
// milliseconds, as short jobs and idle queues take, to an hour.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// Metrics records the jobs that client c sees on mp, or the global
// MeterProvider when mp is nil:
//
//   - counters jobgen.jobs.{submitted,started,completed,failed,retried,aborted}
//     ({job}), from c's events (see runtime.Client.Subscribe);
//   - histograms jobgen.job.run.duration (s), from a run's start to its
//     outcome, with the outcome in jobgen.outcome, and jobgen.job.queue.wait
//     (s), from when a job became ready (its submit, or its run-after time
//     when deferred, retried, snoozed or held) to its start, from c's events
//     too (a job rescued from an expired lease counts from when it was ready
//     before the lost run);
//   - gauges jobgen.queue.depth ({job}), the pending jobs (deferred ones
//     included), jobgen.jobs.running ({job}), the running jobs, and
//     jobgen.queue.oldest_ready.age (s), how long the queue's longest
//     waiting ready job has waited (0 when none is ready), counted in
//     storage (runtime.Client.Count) at each collection.
//
// Every value carries the job's queue (messaging.destination.name), and
// the counters and histograms also its kind (jobgen.kind).
//
// Events are per process, so the counters and histograms are what this
// process saw: a server's client sees its server's runs and its own
// submits and aborts; summed over the processes they count every job. A
// queue wait is measured at every start a server's client sees, whoever
// submitted the job. The gauges count
// every job in storage, whoever submitted or runs it, so every process
// reports the same values: aggregate them with max, not sum.
//
// Call stop to end the recording.
func Metrics(c *runtime.Client, mp metric.MeterProvider) (stop func() error, err error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	r, err := newRecorder(mp.Meter(scope), c)
	if err != nil {
		return nil, fmt.Errorf("jobgenotel: metrics: %w", err)
	}
	cancel := c.Subscribe(r.event)
	return func() error {
		cancel()
		return r.reg.Unregister()
	}, nil
}

// series names one kind in one queue, the attributes of the counters and
// histograms.
type series struct{ kind, queue string }

// running is a job this process started and whose outcome it has not seen.
type running struct {
	series series
	start  time.Time
}

// recorder turns events into measurements.
type recorder struct {
	submitted, started, completed, failed, retried, aborted metric.Int64Counter
	runDuration, queueWait                                  metric.Float64Histogram
	depth, runningJobs                                      metric.Int64ObservableGauge
	oldestReady                                             metric.Float64ObservableGauge
	reg                                                     metric.Registration
	client                                                  *runtime.Client

	// mu guards what the event listener keeps.
	mu       sync.Mutex
	attrs    map[series]metric.MeasurementOption
	outcomes map[outcomeSeries]metric.MeasurementOption
	runs     map[int64]running // by job id

	// gaugeMu guards what the gauge callback keeps.
	gaugeMu sync.Mutex
	queues  map[string]metric.MeasurementOption // every queue counted so far
}

type outcomeSeries struct {
	series
	outcome string
}

func newRecorder(m metric.Meter, c *runtime.Client) (*recorder, error) {
	r := &recorder{
		client:   c,
		attrs:    make(map[series]metric.MeasurementOption),
		outcomes: make(map[outcomeSeries]metric.MeasurementOption),
		runs:     make(map[int64]running),
		queues:   make(map[string]metric.MeasurementOption),
	}
	var err error
	counter := func(name, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = m.Int64Counter(name, metric.WithUnit("{job}"), metric.WithDescription(desc))
		return c
	}
	r.submitted = counter(MetricSubmitted, "Jobs submitted.")
	r.started = counter(MetricStarted, "Job runs started.")
	r.completed = counter(MetricCompleted, "Jobs completed.")
	r.failed = counter(MetricFailed, "Jobs failed for good.")
	r.retried = counter(MetricRetried, "Job runs that failed and left the job to be retried.")
	r.aborted = counter(MetricAborted, "Jobs aborted.")
	histogram := func(name, desc string) metric.Float64Histogram {
		if err != nil {
			return nil
		}
		var h metric.Float64Histogram
		h, err = m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(durationBuckets...))
		return h
	}
	r.runDuration = histogram(MetricRunDuration, "How long job runs took, from their start to their outcome.")
	r.queueWait = histogram(MetricQueueWait, "How long jobs waited to start once ready.")
	gauge := func(name, desc string) metric.Int64ObservableGauge {
		if err != nil {
			return nil
		}
		var g metric.Int64ObservableGauge
		g, err = m.Int64ObservableGauge(name, metric.WithUnit("{job}"), metric.WithDescription(desc))
		return g
	}
	r.depth = gauge(MetricQueueDepth, "Pending jobs, deferred ones included.")
	r.runningJobs = gauge(MetricRunning, "Running jobs.")
	if err != nil {
		return nil, err
	}
	r.oldestReady, err = m.Float64ObservableGauge(MetricOldestReady, metric.WithUnit("s"), metric.WithDescription("How long the longest waiting ready job has waited."))
	if err != nil {
		return nil, err
	}
	r.reg, err = m.RegisterCallback(r.observe, r.depth, r.runningJobs, r.oldestReady)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// attrsOf returns the attribute option of s; r.mu is held.
func (r *recorder) attrsOf(s series) metric.MeasurementOption {
	o, ok := r.attrs[s]
	if !ok {
		o = metric.WithAttributeSet(attribute.NewSet(KindKey.String(s.kind), semconv.MessagingDestinationName(s.queue)))
		r.attrs[s] = o
	}
	return o
}

// outcomeAttrsOf returns the attribute option of s with outcome; r.mu is held.
func (r *recorder) outcomeAttrsOf(s series, outcome string) metric.MeasurementOption {
	k := outcomeSeries{s, outcome}
	o, ok := r.outcomes[k]
	if !ok {
		o = metric.WithAttributeSet(attribute.NewSet(KindKey.String(s.kind), semconv.MessagingDestinationName(s.queue), OutcomeKey.String(outcome)))
		r.outcomes[k] = o
	}
	return o
}

// event records one event. Events of one client arrive in order on one
// goroutine.
func (r *recorder) event(ev runtime.Event) {
	if ev.Kind == runtime.EventProgress {
		return
	}
	ctx := context.Background()
	s := series{ev.JobKind, ev.Queue}
	r.mu.Lock()
	defer r.mu.Unlock()
	attrs := r.attrsOf(s)
	switch ev.Kind {
	case runtime.EventSubmitted:
		r.submitted.Add(ctx, 1, attrs)
		return
	case runtime.EventStarted:
		r.started.Add(ctx, 1, attrs)
		ready := later(ev.CreatedAt, ev.RunAfter)
		r.queueWait.Record(ctx, max(ev.At.Sub(ready), 0).Seconds(), attrs)
		// A job released or snoozed (no run duration is recorded for
		// either) and started again replaces its entry.
		r.runs[ev.JobID] = running{s, ev.At}
		return
	}
	switch ev.Kind {
	case runtime.EventRetried:
		r.retried.Add(ctx, 1, attrs)
	case runtime.EventCompleted:
		r.completed.Add(ctx, 1, attrs)
	case runtime.EventFailed:
		r.failed.Add(ctx, 1, attrs)
	case runtime.EventAborted:
		r.aborted.Add(ctx, 1, attrs)
	default:
		return
	}
	if run, ok := r.runs[ev.JobID]; ok {
		r.runDuration.Record(ctx, max(ev.At.Sub(run.start), 0).Seconds(), r.outcomeAttrsOf(s, ev.Kind.String()))
		delete(r.runs, ev.JobID)
	}
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// countTimeout bounds the storage count of one collection.
const countTimeout = 5 * time.Second

// observe reports the gauges from a storage count, for every queue that
// has jobs in any state and, at zero, every queue that had them at an
// earlier count.
func (r *recorder) observe(ctx context.Context, o metric.Observer) error {
	ctx, cancel := context.WithTimeout(ctx, countTimeout)
	defer cancel()
	counts, err := r.client.Count(ctx)
	if err != nil {
		return fmt.Errorf("jobgenotel: %w", err)
	}
	type queueCounts struct {
		pending, running int64
		oldest           time.Duration
	}
	byQueue := make(map[string]*queueCounts)
	of := func(q string) *queueCounts {
		c := byQueue[q]
		if c == nil {
			c = new(queueCounts)
			byQueue[q] = c
		}
		return c
	}
	for _, g := range counts.Queues {
		c := of(g.Name)
		switch g.State {
		case storage.StatePending:
			c.pending = g.Count
		case storage.StateRunning:
			c.running = g.Count
		}
	}
	for _, a := range counts.Ready {
		of(a.Queue).oldest = max(counts.Now.Sub(a.OldestReady), 0)
	}
	r.gaugeMu.Lock()
	defer r.gaugeMu.Unlock()
	for q := range byQueue {
		if _, ok := r.queues[q]; !ok {
			r.queues[q] = metric.WithAttributeSet(attribute.NewSet(semconv.MessagingDestinationName(q)))
		}
	}
	for q, attrs := range r.queues {
		c := of(q)
		o.ObserveInt64(r.depth, c.pending, attrs)
		o.ObserveInt64(r.runningJobs, c.running, attrs)
		o.ObserveFloat64(r.oldestReady, c.oldest.Seconds(), attrs)
	}
	return nil
}
