package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgAdmin runs the statements around the timed runs: server facts, schema
// set-up and tear-down, VACUUM ANALYZE, and the checks of stored results.
type pgAdmin struct {
	dsn  string
	pool *pgxpool.Pool
}

func newPGAdmin(ctx context.Context, dsn string) (*pgAdmin, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w (set -pg or $JOBGEN_BENCH_POSTGRES)", err)
	}
	return &pgAdmin{dsn: dsn, pool: pool}, nil
}

func (p *pgAdmin) close() { p.pool.Close() }

// describe returns the server's version and the settings that decide what a
// commit costs.
func (p *pgAdmin) describe(ctx context.Context) (string, error) {
	var version, syncCommit, fsync, walLevel string
	if err := p.pool.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return "", err
	}
	for _, s := range []struct {
		name string
		dst  *string
	}{{"synchronous_commit", &syncCommit}, {"fsync", &fsync}, {"wal_level", &walLevel}} {
		if err := p.pool.QueryRow(ctx, "SHOW "+s.name).Scan(s.dst); err != nil {
			return "", err
		}
	}
	if syncCommit != "on" {
		fmt.Fprintf(os.Stderr, "warning: synchronous_commit is %q, not on: commits are not durable when they return\n", syncCommit)
	}
	return fmt.Sprintf("postgres: %s\npostgres: synchronous_commit=%s fsync=%s wal_level=%s\n", version, syncCommit, fsync, walLevel), nil
}

// schemaName returns a schema name unique to this process, so engineers
// sharing the server never collide.
func schemaName(system string, rep int) string {
	return fmt.Sprintf("bench_%s_%d_r%d", strings.ReplaceAll(system, "-", "_"), os.Getpid(), rep)
}

// freshSchema drops and recreates schema.
func (p *pgAdmin) freshSchema(ctx context.Context, schema string) error {
	if err := p.dropSchema(ctx, schema); err != nil {
		return err
	}
	_, err := p.pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	return err
}

func (p *pgAdmin) dropSchema(ctx context.Context, schema string) error {
	_, err := p.pool.Exec(context.WithoutCancel(ctx), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}

// vacuumAnalyze vacuums and analyses schema.table, as River's own benchmark
// cleans its table before a run, so every system starts with fresh
// statistics and visibility map.
func (p *pgAdmin) vacuumAnalyze(ctx context.Context, schema, table string) error {
	_, err := p.pool.Exec(ctx, "VACUUM ANALYZE "+pgx.Identifier{schema, table}.Sanitize())
	return err
}

// checkCompleted fails unless schema.table holds exactly want jobs, each
// completed at its first attempt.
func (p *pgAdmin) checkCompleted(ctx context.Context, schema, table string, want int) error {
	var total, completed int64
	q := fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE state = 'completed' AND attempt = 1) FROM %s",
		pgx.Identifier{schema, table}.Sanitize())
	if err := p.pool.QueryRow(ctx, q).Scan(&total, &completed); err != nil {
		return err
	}
	return checkStored(total, completed, int64(want))
}
