package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// riverArgs are River's benchmark job arguments: the same JSON as jobgen's.
type riverArgs benchArgs

// Kind is the River job kind.
func (riverArgs) Kind() string { return "bench" }

// riverFetch is a River fetch configuration.
type riverFetch struct {
	name     string
	cooldown time.Duration // zero: River's default
	poll     time.Duration // zero: River's default
}

var (
	// riverBenchFetch is what River's own benchmark (cmd/river/riverbench) uses.
	riverBenchFetch = riverFetch{name: "bench-fetch", cooldown: 2 * time.Millisecond, poll: 20 * time.Millisecond}
	// riverDefaultFetch leaves River's defaults (FetchCooldown 100ms,
	// FetchPollInterval 1s).
	riverDefaultFetch = riverFetch{name: "default-fetch"}
)

// riverStore is one fresh River database for one run.
type riverStore[TTx any] struct {
	driver  riverdriver.Driver[TTx]
	schema  string
	analyze func(ctx context.Context) error
	// check fails unless the store holds want jobs, all completed at their
	// first attempt.
	check   func(ctx context.Context, want int) error
	cleanup func()
}

func riverPostgres(ctx context.Context, e *env, variant string, rep int) (*riverStore[pgx.Tx], error) {
	schema := schemaName("river_"+variant, rep)
	if err := e.pg.freshSchema(ctx, schema); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, e.opts.dsn)
	if err != nil {
		return nil, err
	}
	driver := riverpgxv5.New(pool)
	cleanup := func() {
		pool.Close()
		_ = e.pg.dropSchema(context.Background(), schema)
	}
	if err := riverMigrate(ctx, driver, schema); err != nil {
		cleanup()
		return nil, err
	}
	return &riverStore[pgx.Tx]{
		driver:  driver,
		schema:  schema,
		analyze: func(ctx context.Context) error { return e.pg.vacuumAnalyze(ctx, schema, "river_job") },
		check: func(ctx context.Context, want int) error {
			return e.pg.checkCompleted(ctx, schema, "river_job", want)
		},
		cleanup: cleanup,
	}, nil
}

// riverSQLite opens a fresh database file for River's SQLite driver: WAL and
// synchronous=NORMAL like jobgen's SQLite store, and one connection as the
// driver's documentation advises.
func riverSQLite(ctx context.Context, e *env, variant string, rep int) (*riverStore[*sql.Tx], error) {
	path := filepath.Join(e.opts.sqliteDir, fmt.Sprintf("river-%s-%d-r%d.db", variant, os.Getpid(), rep))
	removeSQLite(path)
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=1")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	driver := riversqlite.New(db)
	cleanup := func() {
		db.Close()
		removeSQLite(path)
	}
	if err := riverMigrate(ctx, driver, ""); err != nil {
		cleanup()
		return nil, err
	}
	return &riverStore[*sql.Tx]{
		driver: driver,
		analyze: func(ctx context.Context) error {
			_, err := db.ExecContext(ctx, "ANALYZE")
			return err
		},
		check: func(ctx context.Context, want int) error {
			var total, completed int64
			err := db.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN state = 'completed' AND attempt = 1 THEN 1 END) FROM river_job`).
				Scan(&total, &completed)
			if err != nil {
				return err
			}
			return checkStored(total, completed, int64(want))
		},
		cleanup: cleanup,
	}, nil
}

func riverMigrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], schema string) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema})
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	return nil
}

// riverRun is a River client working one store, with its completions
// counted by a tracker.
type riverRun[TTx any] struct {
	client *river.Client[TTx]
	tr     *tracker
	// doneIDs receives the id of every completed job when latency is
	// measured.
	doneIDs chan int64
	stopSub func()
	subDone chan struct{}
	subErr  error
	// retention is the client's retention of completed jobs (0: River's
	// default, which keeps every job of a run).
	retention time.Duration
}

// newRiverRun makes a client with the benchmark's worker count and fetch
// settings. Its handler records each run in tr and calls onStart first when
// it is set. A subscription to completion events counts completions: River
// emits them once the completer has written the job's state.
func newRiverRun[TTx any](e *env, rs *riverStore[TTx], fetch riverFetch, tr *tracker, onStart func(int), latency bool) (*riverRun[TTx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(_ context.Context, job *river.Job[riverArgs]) error {
		if onStart != nil {
			onStart(job.Args.N)
		}
		tr.ran(job.Args.N)
		return nil
	}))
	client, err := river.NewClient(rs.driver, &river.Config{
		CompletedJobRetentionPeriod: e.opts.retention,
		FetchCooldown:               fetch.cooldown,
		FetchPollInterval:           fetch.poll,
		Logger:                      e.opts.logger,
		Queues:                      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: e.opts.workers}},
		Schema:                      rs.schema,
		Workers:                     workers,
	})
	if err != nil {
		return nil, err
	}
	r := &riverRun[TTx]{client: client, tr: tr, subDone: make(chan struct{}), retention: e.opts.retention}
	if latency {
		r.doneIDs = make(chan int64, len(tr.runs)+1)
	}
	events, cancel := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: len(tr.runs) + 1000, // never drop an event
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled},
	})
	r.stopSub = cancel
	go func() {
		defer close(r.subDone)
		for ev := range events {
			if ev.Kind != river.EventKindJobCompleted {
				if r.subErr == nil {
					r.subErr = fmt.Errorf("river job %d: unexpected event %s", ev.Job.ID, ev.Kind)
				}
				continue
			}
			tr.complete()
			if r.doneIDs != nil {
				r.doneIDs <- ev.Job.ID
			}
		}
	}()
	return r, nil
}

// finish stops the client and the subscription and checks the run.
func (r *riverRun[TTx]) finish(ctx context.Context, rs *riverStore[TTx], want int) error {
	if err := r.client.Stop(ctx); err != nil {
		return fmt.Errorf("river stop: %w", err)
	}
	r.stopSub()
	<-r.subDone
	if r.subErr != nil {
		return r.subErr
	}
	if err := r.tr.check(); err != nil {
		return err
	}
	if r.retention > 0 {
		return nil // the cleaner deleted jobs: the tracker's count is the check
	}
	return rs.check(ctx, want)
}

// riverOpen opens a fresh River store for one run.
type riverOpen[TTx any] func(ctx context.Context, e *env, variant string, rep int) (*riverStore[TTx], error)

// riverBurnDown times River's workers through n jobs inserted beforehand
// with InsertManyFast (COPY FROM on PostgreSQL), 5,000 per call as in
// River's own benchmark.
func riverBurnDown[TTx any](open riverOpen[TTx], fetch riverFetch) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		n := e.opts.n
		rs, err := open(ctx, e, fetch.name, rep)
		if err != nil {
			return nil, err
		}
		defer rs.cleanup()
		tr := newTracker(n)
		rr, err := newRiverRun(e, rs, fetch, tr, nil, false)
		if err != nil {
			return nil, err
		}
		const batch = 5000
		params := make([]river.InsertManyParams, 0, batch)
		for i := range n {
			params = append(params, river.InsertManyParams{Args: riverArgs{N: i}})
			if len(params) == batch || i == n-1 {
				if _, err := rr.client.InsertManyFast(ctx, params); err != nil {
					return nil, fmt.Errorf("bulk insert: %w", err)
				}
				params = params[:0]
			}
		}
		if err := rs.analyze(ctx); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := rr.client.Start(ctx); err != nil {
			return nil, err
		}
		waitErr := tr.wait(ctx, e.opts.timeout)
		elapsed := time.Since(start)
		if err := rr.finish(ctx, rs, n); err != nil {
			return nil, err
		}
		if waitErr != nil {
			return nil, waitErr
		}
		return result{"throughput": float64(n) / elapsed.Seconds()}, nil
	}
}

// riverInsertWhileWorking submits n/10 jobs one by one with Client.Insert
// from 8 producers while the client works them.
func riverInsertWhileWorking[TTx any](open riverOpen[TTx], fetch riverFetch) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		m := workingN(e.opts)
		rs, err := open(ctx, e, fetch.name, rep)
		if err != nil {
			return nil, err
		}
		defer rs.cleanup()
		tr := newTracker(m)
		rr, err := newRiverRun(e, rs, fetch, tr, nil, false)
		if err != nil {
			return nil, err
		}
		if err := rr.client.Start(ctx); err != nil {
			return nil, err
		}
		start := time.Now()
		submitted, err := produce(ctx, m, func(ctx context.Context, i int) error {
			_, err := rr.client.Insert(ctx, riverArgs{N: i}, nil)
			return err
		})
		waitErr := err
		if waitErr == nil {
			waitErr = tr.wait(ctx, e.opts.timeout)
		}
		elapsed := time.Since(start)
		if err := rr.finish(ctx, rs, m); err != nil && waitErr == nil {
			return nil, err
		}
		if waitErr != nil {
			return nil, waitErr
		}
		return result{
			"completed": float64(m) / elapsed.Seconds(),
			"submitted": float64(m) / submitted.Seconds(),
		}, nil
	}
}

// riverLatency inserts jobs one at a time with Client.Insert and waits for
// each one's completion event on the same client's subscription, River's
// closest equivalent of WaitFor.
func riverLatency[TTx any](open riverOpen[TTx], fetch riverFetch) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		total := latencyWarmup + e.opts.latN
		rs, err := open(ctx, e, fetch.name, rep)
		if err != nil {
			return nil, err
		}
		defer rs.cleanup()
		tr := newTracker(total)
		rec := newLatencyRecorder(total)
		rr, err := newRiverRun(e, rs, fetch, tr, rec.start, true)
		if err != nil {
			return nil, err
		}
		if err := rr.client.Start(ctx); err != nil {
			return nil, err
		}
		var (
			startLat, doneLat []float64
			runErr            error
		)
		timeout := time.NewTimer(e.opts.timeout)
		defer timeout.Stop()
	loop:
		for i := range total {
			t0 := rec.now()
			res, err := rr.client.Insert(ctx, riverArgs{N: i}, nil)
			if err != nil {
				runErr = err
				break
			}
			for id := int64(0); id != res.Job.ID; {
				select {
				case id = <-rr.doneIDs:
				case <-timeout.C:
					runErr = fmt.Errorf("timed out waiting for job %d", res.Job.ID)
					break loop
				case <-ctx.Done():
					runErr = ctx.Err()
					break loop
				}
			}
			t2 := rec.now()
			if i >= latencyWarmup {
				startLat = append(startLat, float64(rec.started[i].Load()-t0)/1e6)
				doneLat = append(doneLat, float64(t2-t0)/1e6)
			}
		}
		if err := rr.finish(ctx, rs, total); err != nil && runErr == nil {
			runErr = err
		}
		if runErr != nil {
			return nil, runErr
		}
		return latencyResult(startLat, doneLat), nil
	}
}
