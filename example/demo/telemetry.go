package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// telemetry is the demo's OpenTelemetry: metrics for /metrics in the
// Prometheus format, and spans printed when -trace asks.
type telemetry struct {
	tracerProvider trace.TracerProvider
	meterProvider  *sdkmetric.MeterProvider
	// metrics serves the metrics in the Prometheus text format.
	metrics  http.Handler
	shutdown []func(context.Context) error
}

// newTelemetry sets up the metrics and, with traceTo "stdout", a tracer
// that prints every span to stdout as it ends; with traceTo empty, spans
// go nowhere.
func newTelemetry(traceTo string, stdout io.Writer) (*telemetry, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprometheus.New(otelprometheus.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	tel := &telemetry{
		tracerProvider: noop.NewTracerProvider(),
		meterProvider:  mp,
		metrics:        promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		shutdown:       []func(context.Context) error{mp.Shutdown},
	}
	switch traceTo {
	case "":
	case "stdout":
		exp, err := stdouttrace.New(stdouttrace.WithWriter(stdout), stdouttrace.WithPrettyPrint())
		if err != nil {
			return nil, fmt.Errorf("stdout trace exporter: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		tel.tracerProvider = tp
		tel.shutdown = append(tel.shutdown, tp.Shutdown)
	default:
		return nil, fmt.Errorf("-trace %q: want stdout, or nothing for no traces", traceTo)
	}
	return tel, nil
}

// close flushes and stops the providers.
func (tel *telemetry) close(ctx context.Context) error {
	var errs []error
	for _, f := range tel.shutdown {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}
