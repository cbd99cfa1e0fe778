package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The bare queue is the least a durable PostgreSQL queue has to do: one
// table, a partial index on the pending rows, claims of 100 rows with
// FOR UPDATE SKIP LOCKED, and one UPDATE by id list to complete them. It has
// no leases, retries, notifications or events.
const bareSchemaSQL = `
CREATE TABLE %[1]s (
	id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	state       text        NOT NULL DEFAULT 'pending',
	attempt     integer     NOT NULL DEFAULT 0,
	args        bytea       NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz
);
CREATE INDEX ON %[1]s (id) WHERE state = 'pending';`

const (
	bareClaimSQL = `
UPDATE %[1]s SET state = 'running', attempt = attempt + 1
WHERE id IN (SELECT id FROM %[1]s WHERE state = 'pending' ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED)
RETURNING id, args`
	bareCompleteSQL = `UPDATE %[1]s SET state = 'completed', finished_at = now() WHERE id = ANY($1)`
)

// bareBurnDown works n jobs, copied in beforehand, with -bare-loops
// concurrent loops of claim 100, run each, complete by id list.
func bareBurnDown(ctx context.Context, e *env, rep int) (result, error) {
	n := e.opts.n
	schema := schemaName("bare", rep)
	if err := e.pg.freshSchema(ctx, schema); err != nil {
		return nil, err
	}
	defer e.pg.dropSchema(ctx, schema)
	table := pgx.Identifier{schema, "jobs"}.Sanitize()
	cfg, err := pgxpool.ParseConfig(e.opts.dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(e.opts.bareLoops)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, fmt.Sprintf(bareSchemaSQL, table)); err != nil {
		return nil, err
	}
	rows := make([][]any, n)
	for i := range n {
		args, _ := json.Marshal(benchArgs{N: i})
		rows[i] = []any{args}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{schema, "jobs"}, []string{"args"}, pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	if err := e.pg.vacuumAnalyze(ctx, schema, "jobs"); err != nil {
		return nil, err
	}
	claimSQL, completeSQL := fmt.Sprintf(bareClaimSQL, table), fmt.Sprintf(bareCompleteSQL, table)

	tr := newTracker(n)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	start := time.Now()
	for range e.opts.bareLoops {
		wg.Go(func() {
			ids := make([]int64, 0, 100)
			for ctx.Err() == nil {
				ids = ids[:0]
				rows, err := pool.Query(ctx, claimSQL)
				if err != nil {
					fail(fmt.Errorf("claim: %w", err))
					return
				}
				for rows.Next() {
					var (
						id   int64
						raw  []byte
						args benchArgs
					)
					if err := rows.Scan(&id, &raw); err != nil {
						rows.Close()
						fail(err)
						return
					}
					if err := json.Unmarshal(raw, &args); err != nil {
						rows.Close()
						fail(err)
						return
					}
					tr.ran(args.N) // the no-op work
					ids = append(ids, id)
				}
				if err := rows.Err(); err != nil {
					fail(fmt.Errorf("claim: %w", err))
					return
				}
				if len(ids) == 0 {
					return // burnt down
				}
				if _, err := pool.Exec(ctx, completeSQL, ids); err != nil {
					fail(fmt.Errorf("complete: %w", err))
					return
				}
				for range ids {
					tr.complete()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return nil, firstErr
	}
	if err := tr.check(); err != nil {
		return nil, err
	}
	if err := e.pg.checkCompleted(ctx, schema, "jobs", n); err != nil {
		return nil, err
	}
	return result{"throughput": float64(n) / elapsed.Seconds()}, nil
}

// barePoolBurnDown is the memory row's baseline: a channel holding 10×n job
// numbers worked by -workers goroutines doing the same no-op work.
func barePoolBurnDown(ctx context.Context, e *env, rep int) (result, error) {
	n := memoryN(e.opts)
	items := make(chan int, n)
	for i := range n {
		items <- i
	}
	close(items)
	tr := newTracker(n)
	start := time.Now()
	var wg sync.WaitGroup
	for range e.opts.workers {
		wg.Go(func() {
			for i := range items {
				tr.ran(i)
				tr.complete()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := tr.check(); err != nil {
		return nil, err
	}
	return result{"throughput": float64(n) / elapsed.Seconds()}, nil
}
