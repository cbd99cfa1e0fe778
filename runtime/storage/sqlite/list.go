package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/jobsql"
)

// The statements of the counts (see JobCount).
const (
	sqlCountQueues = `SELECT queue, state, count(*) FROM jobgen_jobs INDEXED BY jobgen_jobs_queue_state
	GROUP BY queue, state ORDER BY queue, state`
	sqlCountKinds = `SELECT kind, state, count(*) FROM jobgen_jobs INDEXED BY jobgen_jobs_kind_state
	GROUP BY kind, state ORDER BY kind, state`
	// sqlOldestReady walks the queues with pending jobs one index seek at
	// a time (a loose index scan of the run_after index) and returns each
	// one's earliest run_after when it is due.
	sqlOldestReady = `WITH RECURSIVE q(name) AS (
		SELECT min(queue) FROM jobgen_jobs INDEXED BY jobgen_jobs_pending_run_after WHERE state = 'pending'
		UNION ALL
		SELECT (SELECT min(x.queue) FROM jobgen_jobs x INDEXED BY jobgen_jobs_pending_run_after
			WHERE x.state = 'pending' AND x.queue > q.name)
		FROM q WHERE q.name IS NOT NULL
	)
	SELECT name, at FROM (
		SELECT q.name, (SELECT min(x.run_after) FROM jobgen_jobs x INDEXED BY jobgen_jobs_pending_run_after
			WHERE x.state = 'pending' AND x.queue = q.name) AS at
		FROM q WHERE q.name IS NOT NULL)
	WHERE at <= ?1 ORDER BY name`
)

// dialect binds jobsql's values as numbered parameters (?NNN), so a
// statement may use one twice.
type dialect struct{ args []any }

func (d *dialect) Param(v any) string {
	d.args = append(d.args, v)
	return "?" + strconv.Itoa(len(d.args))
}

func (d *dialect) Time(t time.Time) string { return d.Param(t.UnixMicro()) }

func (d *dialect) IDs(column string, ids []int64) string {
	b, _ := json.Marshal(ids) // []int64 always encodes
	return column + " IN (SELECT value FROM json_each(" + d.Param(string(b)) + "))"
}

// JobQuery returns one page of the jobs matching p.Filter. It reads
// through the read pool.
func (s *Store) JobQuery(ctx context.Context, p *storage.JobQueryParams) (*storage.JobQueryResult, error) {
	after, err := p.Validate()
	if err != nil {
		return nil, s.mapErr("query", err)
	}
	if err := s.check("query"); err != nil {
		return nil, err
	}
	var d dialect
	page := jobsql.Page{Table: "jobgen_jobs", Columns: jobColumns, Filter: &p.Filter, Order: p.Order, AfterID: after, Limit: p.QueryLimit() + 1}
	q := page.SQL(&d)
	rows, err := s.read.QueryContext(ctx, q, d.args...)
	if err != nil {
		return nil, s.mapErr("query", err)
	}
	defer rows.Close()
	var jobs []*storage.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, s.mapErr("query", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr("query", err)
	}
	return p.Page(jobs), nil
}

// JobCount counts the jobs per queue and state and per kind and state,
// each from its index alone, and finds each queue's oldest ready job, in
// one read transaction.
func (s *Store) JobCount(ctx context.Context, p *storage.JobCountParams) (*storage.JobCountResult, error) {
	if err := s.check("count"); err != nil {
		return nil, err
	}
	now := clock(p.Now)
	res := &storage.JobCountResult{Now: now}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.mapErr("count", err)
	}
	defer tx.Rollback()
	if res.Queues, err = groupCounts(ctx, tx, sqlCountQueues); err != nil {
		return nil, s.mapErr("count", err)
	}
	if res.Kinds, err = groupCounts(ctx, tx, sqlCountKinds); err != nil {
		return nil, s.mapErr("count", err)
	}
	rows, err := tx.QueryContext(ctx, sqlOldestReady, now.UnixMicro())
	if err != nil {
		return nil, s.mapErr("count", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a storage.QueueAge
		var at int64
		if err := rows.Scan(&a.Queue, &at); err != nil {
			return nil, s.mapErr("count", err)
		}
		a.OldestReady = time.UnixMicro(at).UTC()
		res.Ready = append(res.Ready, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr("count", err)
	}
	return res, nil
}

func groupCounts(ctx context.Context, tx *sql.Tx, q string) ([]storage.GroupCount, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storage.GroupCount
	for rows.Next() {
		var g storage.GroupCount
		var st string
		if err := rows.Scan(&g.Name, &st, &g.Count); err != nil {
			return nil, err
		}
		g.State = storage.State(st)
		out = append(out, g)
	}
	return out, rows.Err()
}
