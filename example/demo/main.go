// Command demo runs the example jobs on a jobgen server.
//
// With no flags it opens a SQLite database in a temporary directory, starts
// a server, submits a batch of jobs (image resizes, reports, messages and
// two long computations), shows their progress live, waits for the typed
// results, prints a summary and how often the periodic Heartbeat job fired
// meanwhile, and exits 0:
//
//	go run ./example/demo
//
// With -http it serves the same jobs over HTTP instead, with the dashboard
// (package dashboard) at /dashboard/, where / redirects:
//
//	go run ./example/demo -http 127.0.0.1:8080
//
//	GET  /dashboard/         the dashboard: queues, jobs, live progress, actions
//	POST /jobs/{kind}        submit; the body is the job's JSON arguments
//	GET  /jobs/{id}          the stored job
//	GET  /jobs/{id}/wait     wait for the result (?timeout=30s)
//	POST /jobs/{id}/abort    abort the job
//	GET  /metrics            the jobs' metrics in the Prometheus format
//
// -trace stdout prints every span (a submit's, a run's) as it ends.
//
// -backend chooses the storage: sqlite (the default; -db names the file),
// memory, or postgres (-dsn, or the JOBGEN_POSTGRES_DSN variable).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/jobgenotel"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
	"github.com/jobgen/jobgen/runtime/storage/postgres"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	backend string
	db      string
	dsn     string
	http    string
	trace   string
	scale   int
}

// run is the command with its arguments and output streams; it returns the
// exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.backend, "backend", "sqlite", "storage backend: sqlite, memory or postgres")
	fs.StringVar(&o.db, "db", "", "SQLite database file (default: a new file in a temporary directory)")
	fs.StringVar(&o.dsn, "dsn", os.Getenv("JOBGEN_POSTGRES_DSN"), "PostgreSQL connection string for -backend postgres")
	fs.StringVar(&o.http, "http", "", "serve the jobs over HTTP on this address instead of running the batch")
	fs.StringVar(&o.trace, "trace", "", "print traces: stdout")
	fs.IntVar(&o.scale, "scale", 1, "multiply the batch's job counts by this")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.scale < 1 {
		fmt.Fprintln(stderr, "demo: -scale must be at least 1")
		return 2
	}
	tel, err := newTelemetry(o.trace, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 2
	}
	defer func() {
		if err := tel.close(context.Background()); err != nil {
			fmt.Fprintf(stderr, "demo: telemetry: %v\n", err)
		}
	}()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	store, closeStore, err := openStore(ctx, o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	defer closeStore()

	cfg := runtime.Config{Logger: logger, PollInterval: 200 * time.Millisecond}
	jobgenotel.Instrument(&cfg, jobgenotel.Options{TracerProvider: tel.tracerProvider})
	srv, err := runtime.NewServer(store, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	stopMetrics, err := jobgenotel.Metrics(srv.Client(), tel.meterProvider)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	defer stopMetrics()
	svc := &example.Service{Sender: example.SenderFunc(func(ctx context.Context, to, body string) error {
		return nil // a real service would talk to a mail or chat gateway here
	})}
	if err := example.Register(srv, svc); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(stopCtx); err != nil {
			fmt.Fprintf(stderr, "demo: stop: %v\n", err)
		}
	}()

	if o.http != "" {
		return serve(ctx, o.http, srv.Client(), tel.metrics, stdout, stderr)
	}
	beats := watchHeartbeats(srv.Client())
	if err := runBatch(ctx, srv.Client(), o.scale, stdout); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	if err := beats.report(ctx, srv.Client(), stdout); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	return 0
}

// openStore opens the chosen backend and returns it with its cleanup.
func openStore(ctx context.Context, o options, stdout io.Writer) (storage.Storage, func(), error) {
	switch o.backend {
	case "memory":
		s := memory.New()
		return s, func() { s.Close() }, nil
	case "sqlite":
		path, cleanup := o.db, func() {}
		if path == "" {
			dir, err := os.MkdirTemp("", "jobgen-demo-")
			if err != nil {
				return nil, nil, err
			}
			path, cleanup = filepath.Join(dir, "jobs.db"), func() { os.RemoveAll(dir) }
		}
		s, err := sqlite.Open(path, nil)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "storage: SQLite at %s\n", path)
		return s, func() { s.Close(); cleanup() }, nil
	case "postgres":
		if o.dsn == "" {
			return nil, nil, errors.New("-backend postgres needs -dsn or JOBGEN_POSTGRES_DSN")
		}
		s, err := postgres.Connect(ctx, o.dsn, &postgres.Options{AutoMigrate: true})
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintln(stdout, "storage: PostgreSQL")
		return s, func() { s.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown backend %q (want sqlite, memory or postgres)", o.backend)
}
