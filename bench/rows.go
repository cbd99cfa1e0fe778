package main

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
)

// workingN is the number of jobs of an insert-while-working run.
func workingN(o *options) int { return max(o.n/10, 10) }

// memoryN is the number of jobs of a memory burn-down.
func memoryN(o *options) int { return o.n * 10 }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

var (
	throughput = []metric{{name: "throughput", unit: "jobs/s", higherBetter: true}}
	working    = []metric{
		{name: "completed", unit: "jobs/s", higherBetter: true},
		{name: "submitted", unit: "jobs/s", higherBetter: true},
	}
	latency = []metric{
		{name: "start p50", unit: "ms"}, {name: "start p99", unit: "ms"},
		{name: "done p50", unit: "ms"}, {name: "done p99", unit: "ms"},
	}
)

// allRows lists every row in the order they run. jobgen is always the first
// contender, so ratios are jobgen's median over each other's.
func allRows(o *options) []*row {
	pgRiver := func(kind func(riverOpen[pgx.Tx], riverFetch) func(ctx context.Context, e *env, rep int) (result, error)) []contender {
		return []contender{
			{name: "river " + riverBenchFetch.name, run: kind(riverPostgres, riverBenchFetch)},
			{name: "river " + riverDefaultFetch.name, run: kind(riverPostgres, riverDefaultFetch)},
		}
	}
	sqliteRiver := func(kind func(riverOpen[*sql.Tx], riverFetch) func(ctx context.Context, e *env, rep int) (result, error)) []contender {
		return []contender{
			{name: "river " + riverBenchFetch.name, run: kind(riverSQLite, riverBenchFetch)},
			{name: "river " + riverDefaultFetch.name, run: kind(riverSQLite, riverDefaultFetch)},
		}
	}
	n := func(o *options) int { return o.n }
	return []*row{
		{
			name: "pg-burndown", title: "PostgreSQL burn-down", pg: true, metrics: throughput,
			contenders: append(append([]contender{{name: "jobgen", run: jobgenBurnDown(jobgenPostgres, n, false)}},
				pgRiver(riverBurnDown[pgx.Tx])...), contender{name: "bare SKIP LOCKED", run: bareBurnDown}),
		},
		{
			name: "pg-insert-working", title: "PostgreSQL insert-while-working", pg: true, metrics: working,
			contenders: append([]contender{{name: "jobgen", run: jobgenInsertWhileWorking(jobgenPostgres)}},
				pgRiver(riverInsertWhileWorking[pgx.Tx])...),
		},
		{
			name: "pg-latency", title: "PostgreSQL same-process latency", pg: true, metrics: latency,
			contenders: append([]contender{{name: "jobgen", run: jobgenLatency(jobgenPostgres)}},
				pgRiver(riverLatency[pgx.Tx])...),
		},
		{
			name: "pg-latency-xproc", title: "PostgreSQL cross-process latency", pg: true, metrics: latency,
			contenders: []contender{
				{name: "jobgen", run: jobgenCrossProcess},
				{name: "river " + riverBenchFetch.name, run: riverCrossProcess(riverBenchFetch)},
				{name: "river " + riverDefaultFetch.name, run: riverCrossProcess(riverDefaultFetch)},
			},
		},
		insertManyRow(),
		horizonRow(o),
		{
			name: "sqlite-burndown", title: "SQLite burn-down", metrics: throughput,
			contenders: append([]contender{{name: "jobgen", run: jobgenBurnDown(jobgenSQLite, n, false)}},
				sqliteRiver(riverBurnDown[*sql.Tx])...),
		},
		{
			name: "sqlite-insert-working", title: "SQLite insert-while-working", metrics: working,
			contenders: append([]contender{{name: "jobgen", run: jobgenInsertWhileWorking(jobgenSQLite)}},
				sqliteRiver(riverInsertWhileWorking[*sql.Tx])...),
		},
		{
			name: "sqlite-latency", title: "SQLite same-process latency", metrics: latency,
			contenders: append([]contender{{name: "jobgen", run: jobgenLatency(jobgenSQLite)}},
				sqliteRiver(riverLatency[*sql.Tx])...),
		},
		{
			name: "memory-burndown", title: "memory burn-down (10×n jobs)", metrics: throughput,
			contenders: []contender{
				{name: "jobgen memory", run: jobgenBurnDown(jobgenMemory, memoryN, true)},
				{name: "bare channel pool", run: barePoolBurnDown},
			},
		},
	}
}

func rowNames(rows []*row) string {
	var names []string
	for _, r := range rows {
		names = append(names, r.name)
	}
	return strings.Join(names, ", ")
}
