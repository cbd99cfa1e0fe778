// Package jobgenotel measures jobgen jobs with OpenTelemetry.
//
// Metrics counts submits, starts and outcomes, and measures run durations,
// queue waits, queue depths and running jobs, from a client's events:
//
//	srv, err := runtime.NewServer(store, cfg)
//	...
//	stop, err := jobgenotel.Metrics(srv.Client(), meterProvider)
//	...
//	defer stop()
//
// It is the only package of the module that links OpenTelemetry.
package jobgenotel
