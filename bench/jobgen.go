package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver jobgen's backend uses; also opened here for ANALYZE

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
	"github.com/jobgen/jobgen/runtime/storage/postgres"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

// jobgenKind is the benchmark's no-op job kind.
var jobgenKind = runtime.NewKind[benchArgs, runtime.NoOutput](runtime.KindOpts{Name: "bench"})

// jobgenStore is one fresh jobgen store for one run, with what the run does
// around it.
type jobgenStore struct {
	store storage.Storage
	// analyze refreshes the planner's statistics after the bulk insert.
	analyze func(ctx context.Context) error
	// cleanup closes the store and removes its data.
	cleanup func()
}

// jobgenBackend opens a fresh store of one backend.
type jobgenBackend func(ctx context.Context, e *env, rep int) (*jobgenStore, error)

func jobgenPostgres(ctx context.Context, e *env, rep int) (*jobgenStore, error) {
	schema := schemaName("jobgen", rep)
	if err := e.pg.dropSchema(ctx, schema); err != nil {
		return nil, err
	}
	st, err := postgres.Connect(ctx, e.opts.dsn, &postgres.Options{Schema: schema, AutoMigrate: true})
	if err != nil {
		return nil, err
	}
	return &jobgenStore{
		store:   st,
		analyze: func(ctx context.Context) error { return e.pg.vacuumAnalyze(ctx, schema, "jobgen_jobs") },
		cleanup: func() {
			st.Close()
			_ = e.pg.dropSchema(context.Background(), schema)
		},
	}, nil
}

func jobgenSQLite(ctx context.Context, e *env, rep int) (*jobgenStore, error) {
	path := filepath.Join(e.opts.sqliteDir, fmt.Sprintf("jobgen-%d-r%d.db", os.Getpid(), rep))
	removeSQLite(path)
	st, err := sqlite.Open(path, nil)
	if err != nil {
		return nil, err
	}
	return &jobgenStore{
		store:   st,
		analyze: func(ctx context.Context) error { return sqliteAnalyze(ctx, path) },
		cleanup: func() {
			st.Close()
			removeSQLite(path)
		},
	}, nil
}

func jobgenMemory(context.Context, *env, int) (*jobgenStore, error) {
	st := memory.New()
	return &jobgenStore{
		store:   st,
		analyze: func(context.Context) error { return nil },
		cleanup: func() { st.Close() },
	}, nil
}

// openStats opens a fresh store and, with -storage-stats, wraps it to
// report its calls to standard error when the run ends.
func openStats(ctx context.Context, e *env, open jobgenBackend, rep int) (*jobgenStore, error) {
	js, err := open(ctx, e, rep)
	if err != nil || !e.opts.storageStats {
		return js, err
	}
	wrapped, stats := withStats(js.store)
	cleanup := js.cleanup
	js.store = wrapped
	js.cleanup = func() {
		stats.report(os.Stderr, fmt.Sprintf("rep %d", rep+1))
		cleanup()
	}
	return js, nil
}

// sqliteAnalyze runs ANALYZE on the database file at path through a
// connection of its own.
func sqliteAnalyze(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "ANALYZE")
	return err
}

func removeSQLite(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		_ = os.Remove(path + suffix)
	}
}

// jobgenServer returns a server of the benchmark's configuration whose
// handler records each run in tr and, when onStart is set, calls it first.
func jobgenServer(e *env, store storage.Storage, tr *tracker, onStart func(n int)) (*runtime.Server, error) {
	srv, err := runtime.NewServer(store, runtime.Config{
		Logger: e.opts.logger,
		Queues: map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: e.opts.workers}},
	})
	if err != nil {
		return nil, err
	}
	err = jobgenKind.Register(srv, func(_ context.Context, job *runtime.Job[benchArgs]) (runtime.NoOutput, error) {
		if onStart != nil {
			onStart(job.Args.N)
		}
		tr.ran(job.Args.N)
		return runtime.NoOutput{}, nil
	})
	return srv, err
}

// countCompletions makes tr count the completion events of srv's client.
// jobgen emits them once the completing write is durable.
func countCompletions(srv *runtime.Server, tr *tracker) (cancel func()) {
	return srv.Client().Subscribe(func(ev runtime.Event) {
		if ev.Kind == runtime.EventCompleted {
			tr.complete()
		}
	})
}

// jobgenInsert bulk-inserts jobs numbered 0..n-1 with the store's
// JobInsertMany, 5,000 per call.
func jobgenInsert(ctx context.Context, store storage.Storage, n int) error {
	const batch = 5000
	params := make([]*storage.JobInsertParams, 0, batch)
	for i := range n {
		input, _ := json.Marshal(benchArgs{N: i})
		params = append(params, &storage.JobInsertParams{
			Kind: jobgenKind.Name(), Queue: runtime.DefaultQueue, Input: input, MaxAttempts: runtime.DefaultMaxAttempts,
		})
		if len(params) == batch || i == n-1 {
			if _, err := store.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: params}); err != nil {
				return fmt.Errorf("bulk insert: %w", err)
			}
			params = params[:0]
		}
	}
	return nil
}

// jobgenCheckStored fails unless store holds exactly want jobs, each
// completed at its first attempt.
func jobgenCheckStored(ctx context.Context, store storage.Storage, want int) error {
	var total, completed int64
	var after int64
	for {
		page, err := store.JobList(ctx, &storage.JobListParams{AfterID: after, Limit: 10_000})
		if err != nil {
			return err
		}
		for _, j := range page {
			total++
			if j.State == storage.StateCompleted && j.Attempt == 1 {
				completed++
			}
		}
		if len(page) < 10_000 {
			break
		}
		after = page[len(page)-1].ID
	}
	return checkStored(total, completed, int64(want))
}

// jobgenBurnDown times the workers of a fresh server through n pre-inserted
// jobs, until the n-th completion event.
func jobgenBurnDown(open jobgenBackend, n func(*options) int) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		n := n(e.opts)
		js, err := openStats(ctx, e, open, rep)
		if err != nil {
			return nil, err
		}
		defer js.cleanup()
		if err := jobgenInsert(ctx, js.store, n); err != nil {
			return nil, err
		}
		if err := js.analyze(ctx); err != nil {
			return nil, err
		}
		tr := newTracker(n)
		srv, err := jobgenServer(e, js.store, tr, nil)
		if err != nil {
			return nil, err
		}
		cancel := countCompletions(srv, tr)
		defer cancel()
		if err := e.profile.start(); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := srv.Start(ctx); err != nil {
			return nil, err
		}
		waitErr := tr.wait(ctx, e.opts.timeout)
		elapsed := time.Since(start)
		if err := e.profile.stop(); err != nil {
			return nil, err
		}
		if err := srv.Stop(ctx); err != nil {
			return nil, fmt.Errorf("stop: %w", err)
		}
		if waitErr != nil {
			return nil, waitErr
		}
		if err := tr.check(); err != nil {
			return nil, err
		}
		if err := jobgenCheckStored(ctx, js.store, n); err != nil {
			return nil, err
		}
		return result{"throughput": float64(n) / elapsed.Seconds()}, nil
	}
}

// jobgenMemoryBurnDown is the memory backend's burn-down. Like the runtime's
// own benchmark it counts handler runs and then stops the server, whose
// drain waits for the last outcome writes: the memory store has no
// durability to wait for, and its rate is compared with a bare channel pool
// that has no events either.
func jobgenMemoryBurnDown(ctx context.Context, e *env, rep int) (result, error) {
	n := memoryN(e.opts)
	js, err := openStats(ctx, e, jobgenMemory, rep)
	if err != nil {
		return nil, err
	}
	defer js.cleanup()
	if err := jobgenInsert(ctx, js.store, n); err != nil {
		return nil, err
	}
	tr := newTracker(n)
	srv, err := jobgenServer(e, js.store, tr, func(int) { tr.complete() })
	if err != nil {
		return nil, err
	}
	if err := e.profile.start(); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	waitErr := tr.wait(ctx, e.opts.timeout)
	stopErr := srv.Stop(ctx)
	elapsed := time.Since(start)
	if err := e.profile.stop(); err != nil {
		return nil, err
	}
	if waitErr != nil {
		return nil, waitErr
	}
	if stopErr != nil {
		return nil, fmt.Errorf("stop: %w", stopErr)
	}
	if err := tr.check(); err != nil {
		return nil, err
	}
	if err := jobgenCheckStored(ctx, js.store, n); err != nil {
		return nil, err
	}
	return result{"throughput": float64(n) / elapsed.Seconds()}, nil
}

// jobgenInsertWhileWorking submits n/10 jobs one by one from 8 producers
// while a started server works them.
func jobgenInsertWhileWorking(open jobgenBackend) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		m := workingN(e.opts)
		js, err := openStats(ctx, e, open, rep)
		if err != nil {
			return nil, err
		}
		defer js.cleanup()
		tr := newTracker(m)
		srv, err := jobgenServer(e, js.store, tr, nil)
		if err != nil {
			return nil, err
		}
		cancel := countCompletions(srv, tr)
		defer cancel()
		if err := srv.Start(ctx); err != nil {
			return nil, err
		}
		defer srv.Stop(context.WithoutCancel(ctx))
		client := srv.Client()
		if err := e.profile.start(); err != nil {
			return nil, err
		}
		start := time.Now()
		submitted, err := produce(ctx, m, func(ctx context.Context, i int) error {
			_, err := jobgenKind.Submit(ctx, client, benchArgs{N: i}, nil)
			return err
		})
		if err != nil {
			return nil, err
		}
		if err := tr.wait(ctx, e.opts.timeout); err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		if err := e.profile.stop(); err != nil {
			return nil, err
		}
		if err := srv.Stop(ctx); err != nil {
			return nil, fmt.Errorf("stop: %w", err)
		}
		if err := tr.check(); err != nil {
			return nil, err
		}
		if err := jobgenCheckStored(ctx, js.store, m); err != nil {
			return nil, err
		}
		return result{
			"completed": float64(m) / elapsed.Seconds(),
			"submitted": float64(m) / submitted.Seconds(),
		}, nil
	}
}

// producers is the number of goroutines submitting in insert-while-working.
const producers = 8

// produce runs submit for job numbers 0..m-1 from 8 goroutines and returns
// how long they took.
func produce(ctx context.Context, m int, submit func(context.Context, int) error) (time.Duration, error) {
	start := time.Now()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range producers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= m {
					return
				}
				if err := submit(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("submit: %w", err) })
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// latencyRecorder holds, per job number, when its handler started, as an
// offset on the monotonic clock from base.
type latencyRecorder struct {
	base    time.Time
	started []atomic.Int64
}

func newLatencyRecorder(n int) *latencyRecorder {
	return &latencyRecorder{base: time.Now(), started: make([]atomic.Int64, n)}
}

func (l *latencyRecorder) now() int64 { return int64(time.Since(l.base)) }

func (l *latencyRecorder) start(n int) {
	if n >= 0 && n < len(l.started) {
		l.started[n].Store(l.now())
	}
}

// latencyWarmup is the number of submits before the measured ones.
const latencyWarmup = 5

// latencyResult turns per-job durations into p50/p99 metrics.
func latencyResult(start, done []float64) result {
	r := result{"start p50": percentile(start, 50), "start p99": percentile(start, 99)}
	if done != nil {
		r["done p50"], r["done p99"] = percentile(done, 50), percentile(done, 99)
	}
	return r
}

// jobgenLatency submits jobs one at a time through the server's own client
// and waits for each with Handle.Wait.
func jobgenLatency(open jobgenBackend) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		total := latencyWarmup + e.opts.latN
		js, err := openStats(ctx, e, open, rep)
		if err != nil {
			return nil, err
		}
		defer js.cleanup()
		tr := newTracker(total)
		rec := newLatencyRecorder(total)
		srv, err := jobgenServer(e, js.store, tr, rec.start)
		if err != nil {
			return nil, err
		}
		cancel := countCompletions(srv, tr)
		defer cancel()
		if err := srv.Start(ctx); err != nil {
			return nil, err
		}
		defer srv.Stop(context.WithoutCancel(ctx))
		client := srv.Client()
		var startLat, doneLat []float64
		for i := range total {
			t0 := rec.now()
			h, err := jobgenKind.Submit(ctx, client, benchArgs{N: i}, nil)
			if err != nil {
				return nil, err
			}
			if _, err := h.Wait(ctx); err != nil {
				return nil, err
			}
			t2 := rec.now()
			if i >= latencyWarmup {
				startLat = append(startLat, float64(rec.started[i].Load()-t0)/1e6)
				doneLat = append(doneLat, float64(t2-t0)/1e6)
			}
		}
		if err := tr.wait(ctx, e.opts.timeout); err != nil {
			return nil, err
		}
		if err := srv.Stop(ctx); err != nil {
			return nil, err
		}
		if err := tr.check(); err != nil {
			return nil, err
		}
		if err := jobgenCheckStored(ctx, js.store, total); err != nil {
			return nil, err
		}
		return latencyResult(startLat, doneLat), nil
	}
}
