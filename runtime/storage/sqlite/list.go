package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/jobsql"
)

// The statements of the counts (see JobCount). Each returns rows of a
// group, a state, a count and whether the count stopped at ?1
// (storage.CountLimit), in no particular order.
var (
	// sqlCountQueues counts the pending and running jobs of every queue
	// exactly, each from the claim's index of that state alone, in its
	// order. It finds the queues with finished jobs by a loose scan of the
	// (queue, state, id) index of finished jobs, one seek per queue, and
	// counts each one's jobs in each finished state there, up to ?1.
	sqlCountQueues = `WITH RECURSIVE fq(name) AS (
		SELECT (SELECT queue FROM jobgen_jobs INDEXED BY jobgen_jobs_queue_state
			WHERE ` + jobsql.Terminal("") + ` ORDER BY queue LIMIT 1)
		UNION ALL
		SELECT (SELECT x.queue FROM jobgen_jobs x INDEXED BY jobgen_jobs_queue_state
			WHERE ` + jobsql.Terminal("x.") + ` AND x.queue > fq.name ORDER BY x.queue LIMIT 1)
		FROM fq WHERE fq.name IS NOT NULL
	)
	SELECT * FROM (` + cappedCounts("fq", "jobgen_jobs x INDEXED BY jobgen_jobs_queue_state", "queue",
		[]storage.State{storage.StateCompleted, storage.StateFailed, storage.StateAborted}) + `)
	WHERE n > 0
	UNION ALL
	SELECT queue, 'pending', count(*), 0 FROM jobgen_jobs INDEXED BY jobgen_jobs_pending
	WHERE state = 'pending' GROUP BY queue
	UNION ALL
	SELECT queue, 'running', count(*), 0 FROM jobgen_jobs INDEXED BY jobgen_jobs_lease
	WHERE state = 'running' GROUP BY queue`
	// sqlCountKinds finds the kinds by a loose scan of the kind index, one
	// seek per kind, and counts each one's jobs in each state there, up to
	// ?1.
	sqlCountKinds = `WITH RECURSIVE k(name) AS (
		SELECT (SELECT kind FROM jobgen_jobs INDEXED BY jobgen_jobs_kind_state
			WHERE state IS NOT NULL ORDER BY kind LIMIT 1)
		UNION ALL
		SELECT (SELECT x.kind FROM jobgen_jobs x INDEXED BY jobgen_jobs_kind_state
			WHERE x.state IS NOT NULL AND x.kind > k.name ORDER BY x.kind LIMIT 1)
		FROM k WHERE k.name IS NOT NULL
	)
	SELECT * FROM (` + cappedCounts("k", "jobgen_jobs x INDEXED BY jobgen_jobs_kind_state", "kind", storage.States) + `)
	WHERE n > 0`
)

// sqlOldestReady walks the queues with pending jobs one index seek at a
// time (a loose index scan of the run_after index) and returns each one's
// earliest run_after when it is due.
const sqlOldestReady = `WITH RECURSIVE q(name) AS (
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

// cappedCounts returns the rows (name, state, n, capped) of the groups in
// CTE groups (column name), one per state of sts, each counting the jobs
// of from (alias x) whose column equals the group's name, up to ?1.
func cappedCounts(groups, from, column string, sts []storage.State) string {
	arms := make([]string, len(sts))
	for i, st := range sts {
		arms[i] = "SELECT name, '" + string(st) + "' AS state, n, n >= ?1 AS capped FROM (SELECT " + groups + ".name, " +
			jobsql.CappedCount(from, "x."+column+" = "+groups+".name", st, "?1", false) + " AS n FROM " + groups +
			" WHERE " + groups + ".name IS NOT NULL)"
	}
	return strings.Join(arms, "\n\tUNION ALL\n\t")
}

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
// each from an index alone and up to storage.CountLimit where the count
// statements say, and finds each queue's oldest ready job, in one read
// transaction.
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

// groupCounts runs q, one of the count statements, and returns its counts
// ordered by group, then state.
func groupCounts(ctx context.Context, tx *sql.Tx, q string) ([]storage.GroupCount, error) {
	rows, err := tx.QueryContext(ctx, q, storage.CountLimit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storage.GroupCount
	for rows.Next() {
		var g storage.GroupCount
		var st string
		if err := rows.Scan(&g.Name, &st, &g.Count, &g.AtLeast); err != nil {
			return nil, err
		}
		g.State = storage.State(st)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b storage.GroupCount) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.State, b.State))
	})
	return out, rows.Err()
}
