package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/postgres"
)

// workerModeArg, as the first argument, makes the binary a worker process
// for the cross-process rows: it works the given schema and prints one line
// "S <job number> <unix nanoseconds>" as each handler starts, until its
// standard input closes.
const workerModeArg = "-worker-process"

// runWorkerProcess is the child side of the cross-process rows.
func runWorkerProcess(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	system := fs.String("system", "", "jobgen, river-bench-fetch or river-default-fetch")
	dsn := fs.String("dsn", "", "PostgreSQL URL")
	schema := fs.String("schema", "", "schema to work")
	workers := fs.Int("workers", 100, "workers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	started := func(n int) {
		now := time.Now().UnixNano()
		mu.Lock()
		fmt.Fprintf(out, "S %d %d\n", n, now)
		out.Flush()
		mu.Unlock()
	}
	ready := func() {
		mu.Lock()
		fmt.Fprintln(out, "READY")
		out.Flush()
		mu.Unlock()
	}
	waitStdin := func() { _, _ = io.Copy(io.Discard, os.Stdin) }

	switch *system {
	case "jobgen":
		store, err := postgres.Connect(ctx, *dsn, &postgres.Options{Schema: *schema})
		if err != nil {
			return err
		}
		defer store.Close()
		srv, err := runtime.NewServer(store, runtime.Config{
			Logger: discardLogger(),
			Queues: map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: *workers}},
		})
		if err != nil {
			return err
		}
		err = jobgenKind.Register(srv, func(_ context.Context, job *runtime.Job[benchArgs]) (runtime.NoOutput, error) {
			started(job.Args.N)
			return runtime.NoOutput{}, nil
		})
		if err != nil {
			return err
		}
		if err := srv.Start(ctx); err != nil {
			return err
		}
		ready()
		waitStdin()
		return srv.Stop(ctx)
	case "river-" + riverBenchFetch.name, "river-" + riverDefaultFetch.name:
		fetch := riverDefaultFetch
		if *system == "river-"+riverBenchFetch.name {
			fetch = riverBenchFetch
		}
		pool, err := pgxpool.New(ctx, *dsn)
		if err != nil {
			return err
		}
		defer pool.Close()
		workerSet := river.NewWorkers()
		river.AddWorker(workerSet, river.WorkFunc(func(_ context.Context, job *river.Job[riverArgs]) error {
			started(job.Args.N)
			return nil
		}))
		client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
			FetchCooldown:     fetch.cooldown,
			FetchPollInterval: fetch.poll,
			Logger:            discardLogger(),
			Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: *workers}},
			Schema:            *schema,
			Workers:           workerSet,
		})
		if err != nil {
			return err
		}
		if err := client.Start(ctx); err != nil {
			return err
		}
		ready()
		waitStdin()
		return client.Stop(ctx)
	}
	return fmt.Errorf("unknown -system %q", *system)
}

// workerProcess is the parent's handle on a child worker process.
type workerProcess struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	started []atomic.Int64 // unix nanoseconds of each job's handler start
	tr      *tracker
	ready   chan struct{}
	readErr chan error
}

// startWorkerProcess re-executes this binary as a worker of schema.
func startWorkerProcess(ctx context.Context, e *env, system, schema string, tr *tracker) (*workerProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, workerModeArg, "-system", system, "-dsn", e.opts.dsn,
		"-schema", schema, "-workers", strconv.Itoa(e.opts.workers))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &workerProcess{cmd: cmd, stdin: stdin, started: make([]atomic.Int64, len(tr.runs)), tr: tr,
		ready: make(chan struct{}), readErr: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if line == "READY" {
				close(w.ready)
				continue
			}
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != "S" {
				continue
			}
			n, err1 := strconv.Atoi(f[1])
			at, err2 := strconv.ParseInt(f[2], 10, 64)
			if err1 != nil || err2 != nil || n < 0 || n >= len(w.started) {
				continue
			}
			tr.ran(n)
			w.started[n].CompareAndSwap(0, at)
		}
		w.readErr <- sc.Err()
	}()
	select {
	case <-w.ready:
		return w, nil
	case err := <-w.readErr:
		_ = cmd.Wait()
		return nil, fmt.Errorf("worker process exited before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		w.stop()
		return nil, errors.New("worker process not ready after 30s")
	}
}

// stop closes the child's standard input, which makes it stop its workers
// and exit, and waits for it.
func (w *workerProcess) stop() error {
	w.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		_ = w.cmd.Process.Kill()
		return errors.New("worker process did not exit within a minute of its stdin closing")
	}
}

// jobgenCrossProcess submits jobs one at a time from a detached client in
// this process and waits for each with WaitFor, while a child process works
// them.
func jobgenCrossProcess(ctx context.Context, e *env, rep int) (result, error) {
	total := latencyWarmup + e.opts.latN
	schema := schemaName("jobgen_x", rep)
	if err := e.pg.dropSchema(ctx, schema); err != nil {
		return nil, err
	}
	store, err := postgres.Connect(ctx, e.opts.dsn, &postgres.Options{Schema: schema, AutoMigrate: true})
	if err != nil {
		return nil, err
	}
	defer e.pg.dropSchema(ctx, schema)
	defer store.Close()
	tr := newTracker(total)
	w, err := startWorkerProcess(ctx, e, "jobgen", schema, tr)
	if err != nil {
		return nil, err
	}
	client, err := runtime.NewClient(store, runtime.ClientConfig{Logger: e.opts.logger})
	if err != nil {
		w.stop()
		return nil, err
	}
	defer client.Close()
	var startLat, doneLat []float64
	runErr := func() error {
		for i := range total {
			t0 := time.Now().UnixNano()
			h, err := jobgenKind.Submit(ctx, client, benchArgs{N: i}, nil)
			if err != nil {
				return err
			}
			if _, err := h.Wait(ctx); err != nil {
				return err
			}
			t2 := time.Now().UnixNano()
			tr.complete()
			at, err := w.startedAtWithin(i, time.Second)
			if err != nil {
				return err
			}
			if i >= latencyWarmup {
				startLat = append(startLat, float64(at-t0)/1e6)
				doneLat = append(doneLat, float64(t2-t0)/1e6)
			}
		}
		return nil
	}()
	if err := w.end(runErr, tr); err != nil {
		return nil, err
	}
	if err := jobgenCheckStored(ctx, store, total); err != nil {
		return nil, err
	}
	return latencyResult(startLat, doneLat), nil
}

// riverCrossProcess inserts jobs one at a time from an insert-only River
// client in this process while a child process works them. River has no
// cross-process wait for a job's completion, so only submit → start is
// reported; the submitter paces itself by reading the job with JobGet until
// it is completed, and that time is not reported.
func riverCrossProcess(fetch riverFetch) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		total := latencyWarmup + e.opts.latN
		rs, err := riverPostgres(ctx, e, "x_"+fetch.name, rep)
		if err != nil {
			return nil, err
		}
		defer rs.cleanup()
		client, err := river.NewClient(rs.driver, &river.Config{
			FetchCooldown:     fetch.cooldown,
			FetchPollInterval: fetch.poll,
			Logger:            e.opts.logger,
			Schema:            rs.schema,
		})
		if err != nil {
			return nil, err
		}
		tr := newTracker(total)
		w, err := startWorkerProcess(ctx, e, "river-"+fetch.name, rs.schema, tr)
		if err != nil {
			return nil, err
		}
		var startLat []float64
		runErr := func() error {
			for i := range total {
				t0 := time.Now().UnixNano()
				res, err := client.Insert(ctx, riverArgs{N: i}, nil)
				if err != nil {
					return err
				}
				at, err := w.startedAtWithin(i, e.opts.timeout)
				if err != nil {
					return err
				}
				if err := riverPollCompleted(ctx, client, res.Job.ID, e.opts.timeout); err != nil {
					return err
				}
				tr.complete()
				if i >= latencyWarmup {
					startLat = append(startLat, float64(at-t0)/1e6)
				}
			}
			return nil
		}()
		if err := w.end(runErr, tr); err != nil {
			return nil, err
		}
		if err := rs.check(ctx, total); err != nil {
			return nil, err
		}
		return latencyResult(startLat, nil), nil
	}
}

// end stops the worker process after the submitter's loop returned
// runErr, and reports the first of: that error, the process's own, and
// tr's check that each job ran exactly once.
func (w *workerProcess) end(runErr error, tr *tracker) error {
	if err := w.stop(); err != nil && runErr == nil {
		runErr = fmt.Errorf("worker process: %w", err)
	}
	if runErr != nil {
		return runErr
	}
	return tr.check()
}

// startedAtWithin waits up to timeout for job n's start line.
func (w *workerProcess) startedAtWithin(n int, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	for {
		if at := w.started[n].Load(); at != 0 {
			return at, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("job %d did not start within %s", n, timeout)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// riverPollCompleted reads job id every millisecond until it is completed.
func riverPollCompleted(ctx context.Context, client *river.Client[pgx.Tx], id int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		job, err := client.JobGet(ctx, id)
		if err != nil {
			return err
		}
		if job.State == rivertype.JobStateCompleted {
			return nil
		}
		if job.State == rivertype.JobStateDiscarded || job.State == rivertype.JobStateCancelled {
			return fmt.Errorf("river job %d ended %s", id, job.State)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("river job %d not completed within %s", id, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}
