package jobgenotel

import "go.opentelemetry.io/otel/attribute"

// scope names this package as the instrumentation scope of its tracer and
// meter.
const scope = "github.com/jobgen/jobgen/jobgenotel"

// Attributes of jobgen's own, beside the semantic conventions' messaging
// attributes (the queue is messaging.destination.name).
const (
	// KindKey names a job's kind, on spans and metrics.
	KindKey = attribute.Key("jobgen.kind")
	// OutcomeKey says how a run ended, on the run span and the run
	// duration histogram: completed, retried, failed or aborted (and on
	// the span also released or snoozed).
	OutcomeKey = attribute.Key("jobgen.outcome")
	// AttemptKey holds a run's attempt (1 for the first run) on the run
	// span.
	AttemptKey = attribute.Key("jobgen.attempt")
	// DuplicateKey is set (true) on a submit span when the submit stored
	// nothing because an active job holds its unique key;
	// messaging.message.id is that job's id.
	DuplicateKey = attribute.Key("jobgen.duplicate")
)
