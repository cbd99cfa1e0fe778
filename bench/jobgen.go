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
		Logger:    e.opts.logger,
		Queues:    map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: e.opts.workers}},
		Retention: runtime.Retention{Completed: e.opts.retention},
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

// jobgenRun is one run of jobgen: a fresh store, a server of the
// benchmark's configuration and the tracker of its n jobs.
type jobgenRun struct {
	js  *jobgenStore
	tr  *tracker
	srv *runtime.Server
	n   int
	// retention is the server's retention of completed jobs (0: the
	// default, which keeps every job of a run).
	retention time.Duration
	close     func() // stops the server and the event counting, closes the store
}

// newJobgenRun opens a store and builds (but does not start) a server for n
// jobs. Completions are counted from the server's completion events, or by
// the handler itself when handlerCounted is set; otherwise onStart, when
// set, is called as each handler starts.
func newJobgenRun(ctx context.Context, e *env, open jobgenBackend, rep, n int, onStart func(int), handlerCounted bool) (*jobgenRun, error) {
	js, err := openStats(ctx, e, open, rep)
	if err != nil {
		return nil, err
	}
	tr := newTracker(n)
	if handlerCounted {
		onStart = func(int) { tr.complete() }
	}
	srv, err := jobgenServer(e, js.store, tr, onStart)
	if err != nil {
		js.cleanup()
		return nil, err
	}
	stopEvents := func() {}
	if !handlerCounted {
		stopEvents = countCompletions(srv, tr)
	}
	return &jobgenRun{js: js, tr: tr, srv: srv, n: n, retention: e.opts.retention, close: func() {
		_ = srv.Stop(context.Background())
		stopEvents()
		js.cleanup()
	}}, nil
}

// verify stops the server, draining its last writes, and checks that each
// job ran exactly once and that storage holds every job completed.
func (r *jobgenRun) verify(ctx context.Context) error {
	if err := r.srv.Stop(ctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if err := r.tr.check(); err != nil {
		return err
	}
	if r.retention > 0 {
		return nil // the sweep deleted jobs: the tracker's count is the check
	}
	return jobgenCheckStored(ctx, r.js.store, r.n)
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
// jobs, until the n-th completion event. With handlerCounted (the memory
// backend's method, as in the runtime's own benchmark) it counts handler
// runs instead and times Stop's drain of the last outcome writes too: the
// memory store has no durability to wait for, and its rate is compared
// with a bare channel pool that has no events either.
func jobgenBurnDown(open jobgenBackend, n func(*options) int, handlerCounted bool) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		r, err := newJobgenRun(ctx, e, open, rep, n(e.opts), nil, handlerCounted)
		if err != nil {
			return nil, err
		}
		defer r.close()
		if err := jobgenInsert(ctx, r.js.store, r.n); err != nil {
			return nil, err
		}
		if err := r.js.analyze(ctx); err != nil {
			return nil, err
		}
		if err := e.profile.start(); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := r.srv.Start(ctx); err != nil {
			return nil, err
		}
		waitErr := r.tr.wait(ctx, e.opts.timeout)
		var stopErr error
		if handlerCounted {
			stopErr = r.srv.Stop(ctx)
		}
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
		if err := r.verify(ctx); err != nil {
			return nil, err
		}
		return result{"throughput": float64(r.n) / elapsed.Seconds()}, nil
	}
}

// jobgenInsertWhileWorking submits n/10 jobs one by one from 8 producers
// while a started server works them.
func jobgenInsertWhileWorking(open jobgenBackend) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		r, err := newJobgenRun(ctx, e, open, rep, workingN(e.opts), nil, false)
		if err != nil {
			return nil, err
		}
		defer r.close()
		if err := r.srv.Start(ctx); err != nil {
			return nil, err
		}
		client := r.srv.Client()
		if err := e.profile.start(); err != nil {
			return nil, err
		}
		start := time.Now()
		submitted, err := produce(ctx, r.n, func(ctx context.Context, i int) error {
			_, err := jobgenKind.Submit(ctx, client, benchArgs{N: i}, nil)
			return err
		})
		if err != nil {
			return nil, err
		}
		if err := r.tr.wait(ctx, e.opts.timeout); err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		if err := e.profile.stop(); err != nil {
			return nil, err
		}
		if err := r.verify(ctx); err != nil {
			return nil, err
		}
		return result{
			"completed": float64(r.n) / elapsed.Seconds(),
			"submitted": float64(r.n) / submitted.Seconds(),
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
		rec := newLatencyRecorder(total)
		r, err := newJobgenRun(ctx, e, open, rep, total, rec.start, false)
		if err != nil {
			return nil, err
		}
		defer r.close()
		if err := r.srv.Start(ctx); err != nil {
			return nil, err
		}
		client := r.srv.Client()
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
		if err := r.tr.wait(ctx, e.opts.timeout); err != nil {
			return nil, err
		}
		if err := r.verify(ctx); err != nil {
			return nil, err
		}
		return latencyResult(startLat, doneLat), nil
	}
}
