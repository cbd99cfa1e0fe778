package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/jobsql"
)

// Each bulk operation is one statement, with its plan pinned (see
// pinSQL): pick (a jobsql page of ids, in id
// order) selects the batch, and the write re-checks each row's state on
// its newest version, so a row claimed or changed meanwhile is skipped.
// Every statement returns how many rows it changed, how many it picked
// and the last id picked; $1 is the clock, $2 the channel.

// bulkTailSQL ends every bulk statement: the counts, and the notifications
// in relation notes (column payload).
const bulkTailSQL = `
SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM pick), COALESCE((SELECT max(id) FROM pick), 0)
WHERE (SELECT count(pg_notify($2, notes.payload)) FROM notes) >= 0`

// retryWriteSQL retries the picked failed and aborted jobs, and notifies
// their queues. Of the picked jobs with one unique key only the first is
// retried, and none while an active job of its kind holds the key.
const retryWriteSQL = `,
w AS (
	UPDATE {jobs} j SET state = 'pending', attempt = 0, run_after = COALESCE($3::timestamptz, c.t), output = NULL,
		finished_at = NULL, lease_token = 0, lease_expires_at = NULL, abort_requested_at = NULL
	FROM clock c
	WHERE j.id IN (SELECT id FROM pick) AND j.state IN ('failed', 'aborted')
		AND (j.unique_key = '' OR NOT EXISTS (
			SELECT 1 FROM {jobs} a WHERE a.kind = j.kind AND a.unique_key = j.unique_key
				AND a.state IN ('pending', 'running') AND a.unique_key <> '')
			AND NOT EXISTS (SELECT 1 FROM pick p WHERE p.kind = j.kind AND p.unique_key = j.unique_key AND p.id < j.id))
	RETURNING j.queue
),
notes AS (SELECT DISTINCT 'i:' || w.queue AS payload FROM w)`

// deleteWriteSQL deletes the picked jobs still in the states $3.
const deleteWriteSQL = `,
w AS (
	DELETE FROM {jobs} j WHERE j.id IN (SELECT id FROM pick) AND j.state = ANY($3::text[])
	RETURNING j.id
),
notes AS (SELECT NULL::text AS payload WHERE false)`

// abortWriteSQL aborts the picked pending jobs and asks the picked running
// ones to abort, and notifies: "f:" for aborted jobs, "a:" for requests.
var abortWriteSQL = `,
w AS (
	UPDATE {jobs} j SET
		state = CASE WHEN j.state = 'pending' THEN 'aborted' ELSE j.state END,
		finished_at = CASE WHEN j.state = 'pending' THEN c.t ELSE j.finished_at END,
		abort_requested_at = CASE WHEN j.state = 'running' THEN c.t ELSE j.abort_requested_at END
	FROM clock c
	WHERE j.id IN (SELECT id FROM pick) AND (j.state = 'pending' OR j.state = 'running' AND j.abort_requested_at IS NULL)
	RETURNING j.id, j.state
),
fin AS (SELECT w.id FROM w WHERE w.state = 'aborted'),
req AS (SELECT w.id FROM w WHERE w.state = 'running'),
notes AS (
	` + strings.ReplaceAll(notifyFinishedSQL, "{src}", "fin") + `
	UNION ALL
	` + strings.ReplaceAll(strings.ReplaceAll(notifyFinishedSQL, "{src}", "req"), "'f:'", "'a:'") + `
)`

// pickColumns are the columns of pick: the retry compares the unique keys
// of the picked jobs.
const pickColumns = "j.id, j.kind, j.unique_key"

// The states each bulk operation picks.
var (
	retryStates     = []storage.State{storage.StateFailed, storage.StateAborted}
	finishedStates  = []storage.State{storage.StateCompleted, storage.StateFailed, storage.StateAborted}
	deletableStates = []storage.State{storage.StatePending, storage.StateCompleted, storage.StateFailed, storage.StateAborted}
	abortStates     = []storage.State{storage.StatePending, storage.StateRunning}
)

// batch runs one bulk statement: pick selects b's jobs in states (and
// extra), write (with its arguments from $3) changes them.
func (s *Store) batch(ctx context.Context, op string, b *storage.JobBatch, states []storage.State, extra, write string, args ...any) (*storage.JobBatchResult, error) {
	if err := s.checkParams(op, b); err != nil {
		return nil, err
	}
	limit := b.BatchLimit()
	d := dialect{args: append([]any{ts(b.Now), s.n.channel}, args...)}
	page := jobsql.Page{Table: s.n.jobs, Columns: pickColumns, Filter: &b.Filter, States: states, Extra: extra,
		Order: storage.OrderOldest, AfterID: b.AfterID, Limit: limit}
	q := `WITH ` + clockCTE + `, pick AS (` + page.SQL(&d) + `)` + s.n.render(write) + bulkTailSQL
	var changed, picked, last int64
	err := s.run.pinned(ctx, pinSQL, q, d.args, func(rows pgx.Rows) error {
		defer rows.Close()
		if !rows.Next() {
			return rows.Err()
		}
		return rows.Scan(&changed, &picked, &last)
	})
	if err != nil {
		return nil, translate(op, err)
	}
	res := &storage.JobBatchResult{Changed: int(changed)}
	if picked == int64(limit) {
		res.Next = last
	}
	return res, nil
}

// JobRetry returns one batch of failed and aborted jobs to pending.
// The retried jobs may be anywhere in claim order, so the store's claims
// scan their queues from the front again (see floors.go).
func (s *Store) JobRetry(ctx context.Context, p *storage.JobRetryParams) (*storage.JobBatchResult, error) {
	res, err := s.batch(ctx, "retry", &p.JobBatch, retryStates, "", retryWriteSQL, ts(p.RunAfter))
	if err == nil && res.Changed > 0 {
		s.floors.reset()
	}
	return res, err
}

// JobDelete deletes one batch of finished jobs, and of pending ones when asked.
func (s *Store) JobDelete(ctx context.Context, p *storage.JobDeleteParams) (*storage.JobBatchResult, error) {
	states := finishedStates
	if p.Pending {
		states = deletableStates
	}
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	return s.batch(ctx, "delete", &p.JobBatch, states, "", deleteWriteSQL, names)
}

// JobAbortMany aborts one batch of pending jobs and asks running ones to abort.
func (s *Store) JobAbortMany(ctx context.Context, p *storage.JobAbortManyParams) (*storage.JobBatchResult, error) {
	return s.batch(ctx, "abort many", &p.JobBatch, abortStates, " AND (j.state = 'pending' OR j.abort_requested_at IS NULL)", abortWriteSQL)
}
