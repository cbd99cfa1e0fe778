package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/jobsql"
)

// The writes of the bulk operations, on the ids a batch picked (?1, a JSON
// array) and still in a state the operation applies to.
const (
	// sqlRetryOne retries one job unless an active job of its kind holds
	// its unique key. Jobs are retried one statement each, in id order, so
	// that of two picked jobs with one key the first takes it.
	sqlRetryOne = `UPDATE jobgen_jobs SET
		state = 'pending', attempt = 0, run_after = ?2, output = NULL, finished_at = NULL,
		lease_token = NULL, lease_expires_at = NULL, abort_requested_at = NULL
	WHERE id = ?1 AND state IN ('failed', 'aborted') AND (unique_key = '' OR NOT EXISTS (
		SELECT 1 FROM jobgen_jobs a WHERE a.kind = jobgen_jobs.kind AND a.unique_key = jobgen_jobs.unique_key
			AND a.state IN ('pending', 'running')))`

	sqlDeletePicked = `DELETE FROM jobgen_jobs WHERE id IN (SELECT value FROM json_each(?1))
		AND state IN (SELECT value FROM json_each(?2))`

	sqlAbortPicked = `UPDATE jobgen_jobs SET state = 'aborted', finished_at = ?2
	WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'pending'`

	sqlRequestAbortPicked = `UPDATE jobgen_jobs SET abort_requested_at = ?2
	WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'running' AND abort_requested_at IS NULL`
)

// The states each bulk operation applies to.
var (
	retryStates      = []storage.State{storage.StateFailed, storage.StateAborted}
	finishedStates   = []storage.State{storage.StateCompleted, storage.StateFailed, storage.StateAborted}
	deletableStates  = []storage.State{storage.StatePending, storage.StateCompleted, storage.StateFailed, storage.StateAborted}
	abortStates      = []storage.State{storage.StatePending, storage.StateRunning}
	abortNotYetAsked = " AND (j.state = 'pending' OR j.abort_requested_at IS NULL)"
)

// batch picks b's jobs in states (plus the condition extra) and runs
// write on their ids in one write transaction; write returns how many it
// changed.
func (s *Store) batch(ctx context.Context, op string, b *storage.JobBatch, states []storage.State, extra string,
	write func(ctx context.Context, tx *sql.Tx, ids []int64) (int64, error)) (*storage.JobBatchResult, error) {
	if err := b.Validate(); err != nil {
		return nil, s.mapErr(op, err)
	}
	limit := b.BatchLimit()
	var d dialect
	page := jobsql.Page{Table: "jobgen_jobs", Columns: "j.id", Filter: &b.Filter, States: states, Extra: extra,
		Order: storage.OrderOldest, AfterID: b.AfterID, Limit: limit}
	q := page.SQL(&d)
	res := &storage.JobBatchResult{}
	err := s.withTx(ctx, op, func(ctx context.Context, tx *sql.Tx) error {
		res.Changed, res.Next = 0, 0
		rows, err := tx.QueryContext(ctx, q, d.args...)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		n, err := write(ctx, tx, ids)
		if err != nil {
			return err
		}
		res.Changed = int(n)
		if len(ids) == limit {
			res.Next = ids[len(ids)-1]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// JobRetry returns one batch of failed and aborted jobs to pending.
func (s *Store) JobRetry(ctx context.Context, p *storage.JobRetryParams) (*storage.JobBatchResult, error) {
	now := clock(p.Now)
	runAfter := now
	if !p.RunAfter.IsZero() {
		runAfter = p.RunAfter
	}
	return s.batch(ctx, "retry", &p.JobBatch, retryStates, "", func(ctx context.Context, tx *sql.Tx, ids []int64) (int64, error) {
		stmt, err := tx.PrepareContext(ctx, sqlRetryOne)
		if err != nil {
			return 0, err
		}
		defer stmt.Close()
		var n int64
		for _, id := range ids {
			r, err := stmt.ExecContext(ctx, id, runAfter.UnixMicro())
			if err != nil {
				return 0, err
			}
			k, err := r.RowsAffected()
			if err != nil {
				return 0, err
			}
			n += k
		}
		return n, nil
	})
}

// JobDelete deletes one batch of finished jobs, and of pending ones when asked.
func (s *Store) JobDelete(ctx context.Context, p *storage.JobDeleteParams) (*storage.JobBatchResult, error) {
	states := finishedStates
	if p.Pending {
		states = deletableStates
	}
	return s.batch(ctx, "delete", &p.JobBatch, states, "", func(ctx context.Context, tx *sql.Tx, ids []int64) (int64, error) {
		r, err := tx.ExecContext(ctx, sqlDeletePicked, jsonIDs(ids), jsonStates(states))
		if err != nil {
			return 0, err
		}
		return r.RowsAffected()
	})
}

// JobAbortMany aborts one batch of pending jobs and asks running ones to abort.
func (s *Store) JobAbortMany(ctx context.Context, p *storage.JobAbortManyParams) (*storage.JobBatchResult, error) {
	now := clock(p.Now).UnixMicro()
	return s.batch(ctx, "abort many", &p.JobBatch, abortStates, abortNotYetAsked, func(ctx context.Context, tx *sql.Tx, ids []int64) (int64, error) {
		var n int64
		for _, q := range []string{sqlAbortPicked, sqlRequestAbortPicked} {
			r, err := tx.ExecContext(ctx, q, jsonIDs(ids), now)
			if err != nil {
				return 0, err
			}
			k, err := r.RowsAffected()
			if err != nil {
				return 0, err
			}
			n += k
		}
		return n, nil
	})
}

func jsonIDs(ids []int64) string {
	b, _ := json.Marshal(ids) // []int64 always encodes
	return string(b)
}

func jsonStates(sts []storage.State) string {
	b, _ := json.Marshal(sts) // strings always encode
	return string(b)
}
