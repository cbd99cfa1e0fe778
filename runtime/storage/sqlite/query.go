package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// jobColumns are the columns scanJob reads, in order.
const jobColumns = `id, kind, queue, input, output, state, priority, attempt, max_attempts,
	run_after, lease_token, lease_expires_at, abort_requested_at, deadline, timeout_ns,
	error_message, error_code, unique_key, created_at, attempted_at, finished_at, metadata`

// claimColumns are the columns scanCandidate reads, in order: the claimed
// job's fields (see storage.ClaimedJob) as they are before the claim, and
// its place in claim order (priority, and run_after, a field of the job
// too).
const claimColumns = `id, kind, queue, input, attempt, max_attempts, deadline, timeout_ns, created_at,
	metadata, priority, run_after`

// kindsFilter matches a JSON array of kinds bound as one parameter.
const kindsFilter = `kind IN (SELECT value FROM json_each(?))`

// The hot statements, prepared once on the writer connection.
const (
	sqlInsert = `INSERT INTO jobgen_jobs
	(kind, queue, input, state, priority, max_attempts, run_after, deadline, timeout_ns, unique_key, created_at, metadata)
	VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)`

	sqlFindUnique = `SELECT ` + jobColumns + ` FROM jobgen_jobs
	WHERE kind = ? AND unique_key = ? AND unique_key <> '' AND state IN ('pending', 'running')`

	// sqlFindUniqueWindow finds the newest job of kind ?1 holding key ?2
	// created after ?3, whatever its state (a unique window).
	sqlFindUniqueWindow = `SELECT ` + jobColumns + ` FROM jobgen_jobs INDEXED BY jobgen_jobs_unique_window
	WHERE kind = ? AND unique_key = ? AND unique_key <> '' AND created_at > ?
	ORDER BY created_at DESC LIMIT 1`

	// sqlFailExpired fails running jobs of a queue whose lease expired with
	// no attempt left: a rescue would be one attempt too many.
	sqlFailExpired = `UPDATE jobgen_jobs SET
		state = 'failed',
		error_code = 'lease_expired',
		error_message = 'lease expired on attempt ' || attempt || ' of ' || max_attempts,
		finished_at = ?2,
		lease_token = NULL,
		lease_expires_at = NULL
	WHERE state = 'running' AND queue = ?1 AND lease_expires_at <= ?2
		AND attempt >= max_attempts AND ` + kindsFilter

	// sqlClaimPending selects ready pending jobs in claim order. It is
	// pinned to the index in claim order, so it stops after LIMIT rows
	// instead of sorting every ready job.
	sqlClaimPending = `SELECT ` + claimColumns + ` FROM jobgen_jobs INDEXED BY jobgen_jobs_pending
	WHERE state = 'pending' AND queue = ?1 AND run_after <= ?2 AND kind IN (SELECT value FROM json_each(?3))
	ORDER BY priority, run_after, id LIMIT ?4`

	// sqlClaimExpired selects running jobs whose lease expired and that
	// have an attempt left, in claim order.
	sqlClaimExpired = `SELECT ` + claimColumns + ` FROM jobgen_jobs
	WHERE state = 'running' AND queue = ?1 AND lease_expires_at <= ?2
		AND attempt < max_attempts AND kind IN (SELECT value FROM json_each(?3))
	ORDER BY priority, run_after, id LIMIT ?4`

	sqlNextToken = `UPDATE jobgen_meta SET value = value + ? WHERE key = 'lease_token' RETURNING value`

	sqlClaimOne = `UPDATE jobgen_jobs SET
		state = 'running',
		attempt = attempt + 1,
		lease_token = ?,
		lease_expires_at = ?,
		attempted_at = ?
	WHERE id = ?`

	sqlNextRunAfter = `SELECT run_after FROM jobgen_jobs
	WHERE state = 'pending' AND queue = ? AND run_after > ? AND ` + kindsFilter + `
	ORDER BY run_after LIMIT 1`

	sqlHeartbeat = `UPDATE jobgen_jobs SET lease_expires_at = ?
	WHERE id = ? AND state = 'running' AND lease_token = ?
	RETURNING abort_requested_at`

	sqlComplete = `UPDATE jobgen_jobs SET
		state = 'completed', output = ?, error_message = '', error_code = '', finished_at = ?, lease_token = NULL, lease_expires_at = NULL
	WHERE id = ? AND state = 'running' AND lease_token = ?`

	// sqlEnd writes failed or aborted.
	sqlEnd = `UPDATE jobgen_jobs SET
		state = ?, error_message = ?, error_code = ?, finished_at = ?, lease_token = NULL, lease_expires_at = NULL
	WHERE id = ? AND state = 'running' AND lease_token = ?`

	sqlRetry = `UPDATE jobgen_jobs SET
		state = 'pending', run_after = ?, error_message = ?, error_code = ?, lease_token = NULL, lease_expires_at = NULL
	WHERE id = ? AND state = 'running' AND lease_token = ?`

	sqlRelease = `UPDATE jobgen_jobs SET
		state = 'pending', run_after = ?, attempt = max(attempt - 1, 0), lease_token = NULL, lease_expires_at = NULL
	WHERE id = ? AND state = 'running' AND lease_token = ?`

	sqlDeleteHeld = `DELETE FROM jobgen_jobs WHERE id = ? AND state = 'running' AND lease_token = ?`
)

// The statements run as text: the rarer writes and the reads.
const (
	sqlGet = `SELECT ` + jobColumns + ` FROM jobgen_jobs WHERE id = ?`

	// sqlListSelect and sqlListOrder frame the conditions of a list, which
	// JobList joins with AND.
	sqlListSelect = `SELECT ` + jobColumns + ` FROM jobgen_jobs WHERE `
	sqlListOrder  = ` ORDER BY id LIMIT ?`

	// sqlAbortPending aborts a pending job; sqlRequestAbort records an
	// abort request on a running one (see JobAbort).
	sqlAbortPending = `UPDATE jobgen_jobs SET state = 'aborted', finished_at = ?
	WHERE id = ? AND state = 'pending'`
	sqlRequestAbort = `UPDATE jobgen_jobs SET abort_requested_at = coalesce(abort_requested_at, ?)
	WHERE id = ? AND state = 'running'`

	// sqlAbortRequested lists those of the jobs in the JSON array ? that
	// are running with an abort request.
	sqlAbortRequested = `SELECT id FROM jobgen_jobs
	WHERE id IN (SELECT value FROM json_each(?)) AND state = 'running' AND abort_requested_at IS NOT NULL
	ORDER BY id`

	// sqlDeleteFinished deletes up to ?3 jobs in state ?1 that finished
	// before ?2, oldest first.
	sqlDeleteFinished = `DELETE FROM jobgen_jobs WHERE id IN (
	SELECT id FROM jobgen_jobs WHERE state = ? AND finished_at IS NOT NULL AND finished_at < ?
	ORDER BY finished_at, id LIMIT ?)`
)

// stmts holds the statements prepared on the writer connection.
type stmts struct {
	insert, findUnique, failExpired, claimPending, claimExpired, nextToken, claimOne, nextRunAfter *sql.Stmt
	heartbeat, complete, end, retry, release, deleteHeld                                           *sql.Stmt
	queuePaused, findUniqueWindow                                                                  *sql.Stmt
}

func (st *stmts) all() []**sql.Stmt {
	return []**sql.Stmt{&st.insert, &st.findUnique, &st.failExpired, &st.claimPending, &st.claimExpired, &st.nextToken,
		&st.claimOne, &st.nextRunAfter, &st.heartbeat, &st.complete, &st.end, &st.retry, &st.release, &st.deleteHeld,
		&st.queuePaused, &st.findUniqueWindow}
}

func (st *stmts) prepare(ctx context.Context, db *sql.DB) error {
	texts := []string{sqlInsert, sqlFindUnique, sqlFailExpired, sqlClaimPending, sqlClaimExpired, sqlNextToken,
		sqlClaimOne, sqlNextRunAfter, sqlHeartbeat, sqlComplete, sqlEnd, sqlRetry, sqlRelease, sqlDeleteHeld,
		sqlQueuePaused, sqlFindUniqueWindow}
	for i, p := range st.all() {
		stmt, err := db.PrepareContext(ctx, texts[i])
		if err != nil {
			return err
		}
		*p = stmt
	}
	return nil
}

func (st *stmts) close() {
	for _, p := range st.all() {
		if *p != nil {
			(*p).Close()
		}
	}
}

// candidate is a job a claim selected, before it is claimed.
type candidate struct {
	storage.ClaimedJob
	priority int
	runAfter int64 // micros
}

// scanCandidate reads one row of claimColumns.
func scanCandidate(r rowScanner) (*candidate, error) {
	var (
		c                  candidate
		deadline           sql.NullInt64
		timeout, createdAt int64
	)
	err := r.Scan(&c.ID, &c.Kind, &c.Queue, &c.Input, &c.Attempt, &c.MaxAttempts, &deadline, &timeout, &createdAt,
		metadataColumn{&c.Metadata}, &c.priority, &c.runAfter)
	if err != nil {
		return nil, err
	}
	c.Deadline = fromMicros(deadline)
	c.Timeout = time.Duration(timeout)
	c.CreatedAt = time.UnixMicro(createdAt).UTC()
	c.RunAfter = time.UnixMicro(c.runAfter).UTC()
	return &c, nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanJob reads one row of jobColumns.
func scanJob(r rowScanner) (*storage.Job, error) {
	var (
		j                                                   storage.Job
		state                                               string
		runAfter, createdAt                                 int64
		token, leaseExp, abortAt, deadline, attAt, finishAt sql.NullInt64
		timeout                                             int64
	)
	err := r.Scan(&j.ID, &j.Kind, &j.Queue, &j.Input, &j.Output, &state, &j.Priority, &j.Attempt, &j.MaxAttempts,
		&runAfter, &token, &leaseExp, &abortAt, &deadline, &timeout,
		&j.ErrorMessage, &j.ErrorCode, &j.UniqueKey, &createdAt, &attAt, &finishAt, metadataColumn{&j.Metadata})
	if err != nil {
		return nil, err
	}
	j.State = storage.State(state)
	j.RunAfter = time.UnixMicro(runAfter).UTC()
	j.LeaseToken = token.Int64
	j.LeaseExpiresAt = fromMicros(leaseExp)
	j.AbortRequestedAt = fromMicros(abortAt)
	j.Deadline = fromMicros(deadline)
	j.Timeout = time.Duration(timeout)
	j.CreatedAt = time.UnixMicro(createdAt).UTC()
	j.AttemptedAt = fromMicros(attAt)
	j.FinishedAt = fromMicros(finishAt)
	return &j, nil
}

// metadataColumn scans the metadata column (JSON text, NULL when none)
// into *dst.
type metadataColumn struct{ dst *map[string]string }

// Scan implements sql.Scanner.
func (c metadataColumn) Scan(src any) (err error) {
	switch v := src.(type) {
	case nil:
		*c.dst = nil
	case string:
		*c.dst, err = storage.DecodeMetadata([]byte(v))
	case []byte:
		*c.dst, err = storage.DecodeMetadata(v)
	default:
		err = fmt.Errorf("metadata column holds %T", src)
	}
	return err
}

// metadataParam is md as the metadata column stores it: NULL when empty.
func metadataParam(md map[string]string) any {
	if len(md) == 0 {
		return nil
	}
	return string(storage.EncodeMetadata(md))
}

// cloneMetadata is the caller's copy of md, nil when empty.
func cloneMetadata(md map[string]string) map[string]string {
	if len(md) == 0 {
		return nil
	}
	return maps.Clone(md)
}
