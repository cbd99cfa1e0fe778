package jobgenotel

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/jobgen/jobgen/runtime"
)

// systemName is the value of messaging.system on every span.
const systemName = "jobgen"

// The values of messaging.operation.name, which also start the span names.
const (
	opPublish = "publish"
	opProcess = "process"
)

// Options configure the tracing middleware.
type Options struct {
	// TracerProvider makes the spans. Defaults to the global one
	// (otel.GetTracerProvider), read when the middleware is made.
	TracerProvider trace.TracerProvider
	// Propagator writes the submit span's context into the job's metadata
	// and reads it back at each run. Defaults to W3C trace context
	// (propagation.TraceContext): the global propagator does nothing
	// unless set, and a trace across processes needs one.
	Propagator propagation.TextMapPropagator
}

func (o Options) tracer() trace.Tracer {
	tp := o.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(scope)
}

func (o Options) propagator() propagation.TextMapPropagator {
	if o.Propagator == nil {
		return propagation.TraceContext{}
	}
	return o.Propagator
}

// Instrument adds the submit middleware (the attached client's) and the
// run middleware to a server's cfg.
func Instrument(cfg *runtime.Config, o Options) {
	cfg.SubmitMiddleware = append(cfg.SubmitMiddleware, SubmitMiddleware(o))
	cfg.RunMiddleware = append(cfg.RunMiddleware, RunMiddleware(o))
}

// InstrumentClient adds the submit middleware to a detached client's cfg.
func InstrumentClient(cfg *runtime.ClientConfig, o Options) {
	cfg.SubmitMiddleware = append(cfg.SubmitMiddleware, SubmitMiddleware(o))
}

// SubmitMiddleware opens a producer span "publish <queue>" around every
// submit, a child of the span in the submit's ctx, and stores its context
// in the job's metadata (the W3C traceparent and tracestate keys with the
// default propagator), so that every run of the job is its child. The span
// holds messaging.system ("jobgen"), messaging.operation.type ("send"),
// messaging.operation.name ("publish"), messaging.destination.name (the
// queue), jobgen.kind and, once stored, messaging.message.id (the job's
// id, or with jobgen.duplicate the id of the job that holds the unique
// key); a refused or failed submit sets status Error with the message.
func SubmitMiddleware(o Options) runtime.SubmitMiddleware {
	tracer, prop := o.tracer(), o.propagator()
	return func(ctx context.Context, info *runtime.SubmitInfo, next func(context.Context) (runtime.SubmitResult, error)) (runtime.SubmitResult, error) {
		ctx, span := tracer.Start(ctx, opPublish+" "+info.Queue,
			trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(
				semconv.MessagingSystemKey.String(systemName),
				semconv.MessagingOperationTypeSend,
				semconv.MessagingOperationName(opPublish),
				semconv.MessagingDestinationName(info.Queue),
				KindKey.String(info.Kind),
			))
		defer span.End()
		prop.Inject(ctx, propagation.MapCarrier(info.Metadata))
		res, err := next(ctx)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
			return res, err
		}
		span.SetAttributes(semconv.MessagingMessageID(strconv.FormatInt(res.ID, 10)))
		if res.Duplicate {
			span.SetAttributes(DuplicateKey.Bool(true))
		}
		return res, nil
	}
}

// RunMiddleware opens a consumer span "process <queue>" around every run
// of a handler, a child of the submit span whose context the job's
// metadata holds (a root span when it holds none), so a trace follows a
// job from its submit to each of its runs across processes. The span holds
// messaging.system ("jobgen"), messaging.operation.type and .name
// ("process"), messaging.destination.name (the queue),
// messaging.message.id (the job's id), jobgen.kind, jobgen.attempt and
// jobgen.outcome, what the server made of the job (runtime.RunOutcome:
// completed, retried, failed, aborted, released, snoozed), which ends the
// span. A run that returns an error records it (with the stack of a panic)
// and sets status Error with its message (a panic's value, without the
// stack). The handler's ctx carries the span.
func RunMiddleware(o Options) runtime.RunMiddleware {
	tracer, prop := o.tracer(), o.propagator()
	return func(ctx context.Context, info *runtime.RunInfo, next func(context.Context) error) error {
		ctx = prop.Extract(ctx, propagation.MapCarrier(info.Metadata))
		ctx, span := tracer.Start(ctx, opProcess+" "+info.Queue,
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(
				semconv.MessagingSystemKey.String(systemName),
				semconv.MessagingOperationTypeProcess,
				semconv.MessagingOperationName(opProcess),
				semconv.MessagingDestinationName(info.Queue),
				semconv.MessagingMessageID(strconv.FormatInt(info.ID, 10)),
				KindKey.String(info.Kind),
				AttemptKey.Int(info.Attempt),
			))
		// The span ends once the server has decided the outcome.
		info.OnOutcome(func(o runtime.RunOutcome) {
			span.SetAttributes(OutcomeKey.String(o.String()))
			span.End()
		})
		err := next(ctx)
		if err != nil {
			var opts []trace.EventOption
			msg := err.Error()
			var p *runtime.PanicError
			if errors.As(err, &p) {
				// The stack goes to the exception event, not the status.
				opts = append(opts, trace.WithAttributes(semconv.ExceptionStacktrace(string(p.Stack))))
				msg = fmt.Sprintf("panic: %v", p.Value)
			}
			span.RecordError(err, opts...)
			span.SetStatus(codes.Error, msg)
		}
		return err
	}
}
