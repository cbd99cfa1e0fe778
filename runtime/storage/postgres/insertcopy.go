package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// copyMinJobs is the smallest batch JobInsertMany writes with COPY (see
// insertCopy). Below it the multi-row INSERT's single round trip costs
// less than COPY's two; at 1,000 jobs COPY takes about two thirds of the
// INSERT's time.
const copyMinJobs = 100

// reserveIDsSQL draws $1 job ids, in order, and reads the database clock.
const reserveIDsSQL = `SELECT now(), array(SELECT nextval('{id_seq_lit}') FROM generate_series(1, $1))`

// copyColumns are the columns insertCopy writes, in the order of its rows;
// the others take their defaults.
var copyColumns = []string{"id", "kind", "queue", "priority", "max_attempts", "run_after", "deadline", "timeout_ns", "input", "created_at"}

// copies reports whether JobInsertMany writes jobs with insertCopy: a
// batch of at least copyMinJobs, none with a unique key (COPY cannot skip
// a row on a conflict), through the store itself (a WithTx view's
// statements notify inside the caller's transaction, which the INSERT
// does in the same statement).
func (s *Store) copies(jobs []*storage.JobInsertParams) bool {
	if len(jobs) < copyMinJobs || s.run.notifies() {
		return false
	}
	for _, p := range jobs {
		if p.UniqueKey != "" {
			return false
		}
	}
	return true
}

// insertCopy inserts jobs that passed checkInserts and copies with COPY
// FROM, which writes rows far more cheaply than an INSERT of as many. One
// statement draws their ids and reads the clock, then COPY writes every
// row in one statement, so in one transaction: all of them or none. The
// results are built from the params, with no rows sent back.
func (s *Store) insertCopy(ctx context.Context, jobs []*storage.JobInsertParams, now time.Time) ([]*storage.JobInsertResult, error) {
	var (
		dbNow time.Time
		ids   []int64
	)
	if err := s.run.QueryRow(ctx, s.n.render(reserveIDsSQL), len(jobs)).Scan(&dbNow, &ids); err != nil {
		return nil, translate("insert", err)
	}
	rows := make([][]any, len(jobs))
	stored := make([]storage.Job, len(jobs))
	results := make([]storage.JobInsertResult, len(jobs))
	out := make([]*storage.JobInsertResult, len(jobs))
	queues := make([]string, len(jobs))
	for i, p := range jobs {
		clock := dbNow
		switch {
		case !p.Now.IsZero():
			clock = p.Now
		case !now.IsZero():
			clock = now
		}
		created := *ts(clock)
		runAfter := created
		if !p.RunAfter.IsZero() {
			runAfter = *ts(p.RunAfter)
		}
		rows[i] = []any{ids[i], p.Kind, p.Queue, int32(p.Priority), int32(p.MaxAttempts), runAfter, ts(p.Deadline), int64(p.Timeout), p.Input, created}
		stored[i] = storage.Job{
			ID: ids[i], Kind: p.Kind, Queue: p.Queue, State: storage.StatePending, Priority: p.Priority,
			MaxAttempts: p.MaxAttempts, RunAfter: runAfter, Deadline: p.Deadline.UTC().Truncate(time.Microsecond),
			Timeout: p.Timeout, Input: p.Input, CreatedAt: created,
		}
		if p.Deadline.IsZero() {
			stored[i].Deadline = time.Time{}
		}
		results[i].Job = &stored[i]
		out[i] = &results[i]
		queues[i] = p.Queue
	}
	table := pgx.Identifier{s.n.schema, s.n.prefix + "jobgen_jobs"}
	if _, err := s.pool.CopyFrom(ctx, table, copyColumns, pgx.CopyFromRows(rows)); err != nil {
		return nil, translate("insert", err)
	}
	s.announce(distinct(queues), nil)
	return out, nil
}
