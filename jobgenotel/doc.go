// Package jobgenotel traces and measures jobgen jobs with OpenTelemetry.
//
// Tracing follows OpenTelemetry's messaging semantic conventions: a
// producer span "publish <queue>" per submit (SubmitMiddleware) and a
// consumer span "process <queue>" per run (RunMiddleware), each run's span
// a child of its submit's, across processes too: the submit stores its
// W3C trace context in the job's metadata. Metrics counts submits, starts
// and outcomes, and measures run durations, queue waits, queue depths and
// running jobs, from a client's events.
//
// A server and its attached client:
//
//	cfg := runtime.Config{}
//	jobgenotel.Instrument(&cfg, jobgenotel.Options{TracerProvider: tracerProvider})
//	srv, err := runtime.NewServer(store, cfg)
//	...
//	stop, err := jobgenotel.Metrics(srv.Client(), meterProvider)
//	...
//	defer stop()
//
// A detached client that submits takes InstrumentClient.
//
// It is the only package of the module that links OpenTelemetry.
package jobgenotel
