package jobgenotel_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/jobgen/jobgen/jobgenotel"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// newTracing returns a tracer provider that records its ended spans.
func newTracing(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, sr
}

// jobSpans are the spans of one job: its submit's and its runs', by attempt.
type jobSpans struct {
	publish sdktrace.ReadOnlySpan
	runs    []sdktrace.ReadOnlySpan
}

// spansOf returns the ended spans of job id among sr's.
func spansOf(t *testing.T, sr *tracetest.SpanRecorder, id int64) jobSpans {
	t.Helper()
	var js jobSpans
	for _, s := range sr.Ended() {
		if attrs(s)["messaging.message.id"] != strconv.FormatInt(id, 10) {
			continue
		}
		switch s.SpanKind() {
		case trace.SpanKindProducer:
			js.publish = s
		case trace.SpanKindConsumer:
			js.runs = append(js.runs, s)
		}
	}
	slices.SortFunc(js.runs, func(a, b sdktrace.ReadOnlySpan) int {
		return int(attrs(a)["jobgen.attempt"].(int64) - attrs(b)["jobgen.attempt"].(int64))
	})
	return js
}

// attrs returns a span's attributes as Go values.
func attrs(s sdktrace.ReadOnlySpan) map[string]any {
	m := make(map[string]any)
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// checkAttrs reports the attributes of s that differ from want.
func checkAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[string]any) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("span %q: %s = %v (%T), want %v (%T)", s.Name(), k, got[k], got[k], v, v)
		}
	}
}

// checkRun checks a run span of the job whose submit span is publish.
func checkRun(t *testing.T, run, publish sdktrace.ReadOnlySpan, id int64, attempt int, outcome string) {
	t.Helper()
	if run.Name() != "process q" {
		t.Errorf("run span name %q, want %q", run.Name(), "process q")
	}
	if run.Parent().SpanID() != publish.SpanContext().SpanID() || run.SpanContext().TraceID() != publish.SpanContext().TraceID() {
		t.Errorf("run span of job %d attempt %d: parent %v, trace %v; want the submit span %v", id, attempt, run.Parent().SpanID(), run.SpanContext().TraceID(), publish.SpanContext())
	}
	checkAttrs(t, run, map[string]any{
		"messaging.system":           "jobgen",
		"messaging.operation.type":   "process",
		"messaging.operation.name":   "process",
		"messaging.destination.name": "q",
		"messaging.message.id":       strconv.FormatInt(id, 10),
		"jobgen.kind":                "work",
		"jobgen.attempt":             int64(attempt),
		"jobgen.outcome":             outcome,
	})
}

// checkError checks that s ended with status Error, msg, and an exception
// event.
func checkError(t *testing.T, s sdktrace.ReadOnlySpan, msg string) sdktrace.Event {
	t.Helper()
	if st := s.Status(); st.Code != codes.Error || st.Description != msg {
		t.Errorf("span %q: status %v %q, want Error %q", s.Name(), st.Code, st.Description, msg)
	}
	for _, ev := range s.Events() {
		if ev.Name == "exception" {
			return ev
		}
	}
	t.Errorf("span %q: no exception event in %v", s.Name(), s.Events())
	return sdktrace.Event{}
}

// newTracedServer starts a memory server instrumented with a tracer
// provider of its own, and returns the provider, its span recorder, the
// server's client and the channel newMemoryServer reports blocked jobs on.
func newTracedServer(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder, *runtime.Client, <-chan int64) {
	tp, sr := newTracing(t)
	var cfg runtime.Config
	jobgenotel.Instrument(&cfg, jobgenotel.Options{TracerProvider: tp})
	srv, blocked := newMemoryServer(t, cfg)
	return tp, sr, srv.Client(), blocked
}

// TestTrace runs jobs of every outcome on one server and reads their
// spans: each submit's span is a child of the submit's ctx, each run's a
// child of its submit's.
func TestTrace(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	tp, sr, c, blocked := newTracedServer(t)

	reqCtx, req := tp.Tracer("test").Start(ctx, "request")
	handles := make(map[string]*runtime.Handle[runtime.NoOutput])
	for _, mode := range []string{modeOK, modeRetry, modeFail, modePanic} {
		handles[mode] = submit(t, reqCtx, c, mode, &runtime.SubmitOpts{MaxAttempts: new(2)})
	}
	handles[modeBlock] = submit(t, reqCtx, c, modeBlock, nil)
	req.End()
	<-blocked
	if err := handles[modeBlock].Abort(ctx); err != nil {
		t.Fatal(err)
	}
	for mode, h := range handles {
		if _, err := h.Wait(ctx); (err == nil) != (mode == modeOK || mode == modeRetry) {
			t.Fatalf("%s job: %v", mode, err)
		}
	}

	for mode, h := range handles {
		js := spansOf(t, sr, h.ID)
		if js.publish == nil {
			t.Fatalf("%s job: no submit span", mode)
		}
		if js.publish.Name() != "publish q" || js.publish.Parent().SpanID() != req.SpanContext().SpanID() {
			t.Errorf("%s job: submit span %q with parent %v, want %q under the request %v", mode, js.publish.Name(), js.publish.Parent().SpanID(), "publish q", req.SpanContext().SpanID())
		}
		checkAttrs(t, js.publish, map[string]any{
			"messaging.system":           "jobgen",
			"messaging.operation.type":   "send",
			"messaging.operation.name":   "publish",
			"messaging.destination.name": "q",
			"jobgen.kind":                "work",
		})
		want := map[string][]string{
			modeOK:    {"completed"},
			modeRetry: {"retried", "completed"},
			modeFail:  {"failed"},
			modePanic: {"retried", "failed"},
			modeBlock: {"aborted"},
		}[mode]
		if len(js.runs) != len(want) {
			t.Fatalf("%s job: %d run spans, want %d", mode, len(js.runs), len(want))
		}
		for i, outcome := range want {
			checkRun(t, js.runs[i], js.publish, h.ID, i+1, outcome)
		}
	}
	checkError(t, spansOf(t, sr, handles[modeRetry].ID).runs[0], "flaky")
	checkError(t, spansOf(t, sr, handles[modeFail].ID).runs[0], errDeclined.Error())
	ev := checkError(t, spansOf(t, sr, handles[modePanic].ID).runs[1], "panic: boom")
	if st := (attribute.NewSet(ev.Attributes...)); !st.HasValue("exception.stacktrace") {
		t.Errorf("panic's exception event has no stack trace: %v", ev.Attributes)
	}
	if st := spansOf(t, sr, handles[modeOK].ID).runs[0].Status(); st.Code != codes.Unset {
		t.Errorf("completed run: status %v, want unset", st)
	}
}

// TestTraceSubmitMany: every job of a SubmitMany batch gets its own
// submit span under the caller's ctx, and its run span is that span's
// child.
func TestTraceSubmitMany(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	tp, sr, c, _ := newTracedServer(t)
	reqCtx, req := tp.Tracer("test").Start(ctx, "request")
	hs, err := workKind.SubmitMany(reqCtx, c, []work{{Mode: modeOK}, {Mode: modeOK}, {Mode: modeOK}}, nil)
	req.End()
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		if _, err := h.Wait(ctx); err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		js := spansOf(t, sr, h.ID)
		if js.publish == nil || js.publish.Parent().SpanID() != req.SpanContext().SpanID() {
			t.Fatalf("job %d: submit span %v, want one under the request", i, js.publish)
		}
		if len(js.runs) != 1 {
			t.Fatalf("job %d: %d run spans, want 1", i, len(js.runs))
		}
		checkRun(t, js.runs[0], js.publish, h.ID, 1, "completed")
	}
}

// TestTraceRefusedSubmit: a detached client's submit that a later
// middleware refuses ends its span with the error.
func TestTraceRefusedSubmit(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	tp, sr := newTracing(t)
	var cfg runtime.ClientConfig
	jobgenotel.InstrumentClient(&cfg, jobgenotel.Options{TracerProvider: tp})
	var stored map[string]string
	errRefused := errors.New("refused")
	cfg.SubmitMiddleware = append(cfg.SubmitMiddleware, func(ctx context.Context, info *runtime.SubmitInfo, next func(context.Context) (runtime.SubmitResult, error)) (runtime.SubmitResult, error) {
		stored = info.Metadata
		return runtime.SubmitResult{}, errRefused
	})
	store := newMemoryStore(t)
	c, err := runtime.NewClient(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := workKind.Submit(ctx, c, work{Mode: modeOK}, nil); !errors.Is(err, errRefused) {
		t.Fatalf("submit: %v, want %v", err, errRefused)
	}
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	checkError(t, spans[0], errRefused.Error())
	if tp := stored["traceparent"]; tp == "" || tp[3:35] != spans[0].SpanContext().TraceID().String() {
		t.Errorf("metadata %v: want the submit span's traceparent", stored)
	}
}

// TestTraceUndecodableInput: a job whose stored input does not decode
// fails for good on its first attempt, and its run span says so.
func TestTraceUndecodableInput(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	tp, sr := newTracing(t)
	var cfg runtime.Config
	jobgenotel.Instrument(&cfg, jobgenotel.Options{TracerProvider: tp})
	store := newMemoryStore(t)
	srv, _ := startServer(t, store, cfg)
	failed := make(chan int64, 1)
	defer srv.Client().Subscribe(func(ev runtime.Event) {
		if ev.Kind == runtime.EventFailed {
			failed <- ev.JobID
		}
	})()
	res, err := store.JobInsert(ctx, &storage.JobInsertParams{Kind: "work", Queue: "q", Input: []byte(`{"mode":5}`), MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-failed:
		if id != res.Job.ID {
			t.Fatalf("job %d failed, want %d", id, res.Job.ID)
		}
	case <-ctx.Done():
		t.Fatal("the job did not fail")
	}
	runs := spansOf(t, sr, res.Job.ID).runs
	if len(runs) != 1 {
		t.Fatalf("%d run spans, want 1", len(runs))
	}
	if got := attrs(runs[0])["jobgen.outcome"]; got != "failed" {
		t.Errorf("outcome %v, want failed", got)
	}
}
