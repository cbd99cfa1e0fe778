package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/jobgen/jobgen/runtime"
)

// insertManyBatch is the batch size of the pg-insert-many row: 1,000, or
// 100 with -smoke.
func insertManyBatch(o *options) int {
	if o.smoke {
		return 100
	}
	return 1000
}

// insertManyN is how many jobs one pg-insert-many run inserts: n/2 in
// whole batches, at least one batch.
func insertManyN(o *options) int {
	b := insertManyBatch(o)
	return max(o.n/2/b, 1) * b
}

// insertManyRow is the pg-insert-many row: batches inserted one after the
// other from one goroutine, each in one call and one transaction, through
// jobgen's typed SubmitMany and River's InsertMany (a multi-row insert
// returning the jobs) and InsertManyFast (COPY FROM, returning a count).
// "inserted/s" is the jobs of the run divided by the time the calls took.
func insertManyRow() *row {
	return &row{
		name: "pg-insert-many", title: "PostgreSQL batch insert", pg: true,
		metrics: []metric{{name: "inserted", unit: "jobs/s", higherBetter: true}},
		contenders: []contender{
			{name: "jobgen SubmitMany", run: jobgenSubmitMany},
			{name: "river InsertMany", run: riverInsertMany(false)},
			{name: "river InsertManyFast", run: riverInsertMany(true)},
		},
	}
}

// jobgenSubmitMany inserts through a detached client's typed SubmitMany.
func jobgenSubmitMany(ctx context.Context, e *env, rep int) (result, error) {
	js, err := jobgenPostgres(ctx, e, rep)
	if err != nil {
		return nil, err
	}
	defer js.cleanup()
	client, err := runtime.NewClient(js.store, runtime.ClientConfig{Logger: e.opts.logger})
	if err != nil {
		return nil, err
	}
	defer client.Close()
	jobs := runtime.NewNoOutputClient(jobgenKind, client)
	n, size := insertManyN(e.opts), insertManyBatch(e.opts)
	batch := make([]benchArgs, size)
	if err := e.profile.start(); err != nil {
		return nil, err
	}
	start := time.Now()
	for first := 0; first < n; first += size {
		for i := range batch {
			batch[i] = benchArgs{N: first + i}
		}
		hs, err := jobs.SubmitMany(ctx, batch, nil)
		if err != nil {
			return nil, fmt.Errorf("submit many: %w", err)
		}
		if len(hs) != size {
			return nil, fmt.Errorf("submit many of %d jobs returned %d handles", size, len(hs))
		}
	}
	elapsed := time.Since(start)
	if err := e.profile.stop(); err != nil {
		return nil, err
	}
	if err := e.pg.checkPending(ctx, schemaName("jobgen", rep), "jobgen_jobs", n); err != nil {
		return nil, err
	}
	return result{"inserted": float64(n) / elapsed.Seconds()}, nil
}

// riverInsertMany inserts through an insert-only River client's
// InsertMany, or its InsertManyFast when fast is set.
func riverInsertMany(fast bool) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		variant := "insert_many"
		if fast {
			variant = "insert_many_fast"
		}
		rs, err := riverPostgres(ctx, e, variant, rep)
		if err != nil {
			return nil, err
		}
		defer rs.cleanup()
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[riverArgs]) error { return nil }))
		client, err := river.NewClient(rs.driver, &river.Config{Logger: e.opts.logger, Schema: rs.schema, Workers: workers})
		if err != nil {
			return nil, err
		}
		n, size := insertManyN(e.opts), insertManyBatch(e.opts)
		params := make([]river.InsertManyParams, size)
		start := time.Now()
		for first := 0; first < n; first += size {
			for i := range params {
				params[i] = river.InsertManyParams{Args: riverArgs{N: first + i}}
			}
			got := 0
			if fast {
				got, err = client.InsertManyFast(ctx, params)
			} else {
				var res []*rivertype.JobInsertResult
				res, err = client.InsertMany(ctx, params)
				got = len(res)
			}
			if err != nil {
				return nil, fmt.Errorf("river insert many: %w", err)
			}
			if got != size {
				return nil, fmt.Errorf("river insert many of %d jobs inserted %d", size, got)
			}
		}
		elapsed := time.Since(start)
		if err := e.pg.checkPending(ctx, rs.schema, "river_job", n); err != nil {
			return nil, err
		}
		return result{"inserted": float64(n) / elapsed.Seconds()}, nil
	}
}

// checkPending fails unless schema.table holds exactly want jobs, none of
// them started (River's state for them is "available").
func (p *pgAdmin) checkPending(ctx context.Context, schema, table string, want int) error {
	var total, waiting int64
	q := fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE state IN ('pending', 'available') AND attempt = 0) FROM %s",
		pgx.Identifier{schema, table}.Sanitize())
	if err := p.pool.QueryRow(ctx, q).Scan(&total, &waiting); err != nil {
		return err
	}
	if total != int64(want) || waiting != int64(want) {
		return fmt.Errorf("storage holds %d jobs, %d of them waiting to run; want %d, all waiting", total, waiting, want)
	}
	return nil
}
