package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobInsert inserts one pending job, or reports the active job of the same
// kind that already holds p.UniqueKey.
func (s *Store) JobInsert(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: insert: %w", err)
	}
	var res *storage.JobInsertResult
	err := s.withTx(ctx, "insert", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = s.insert(ctx, tx, p, p.Now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// JobInsertMany inserts every job in one transaction: all of them or, on
// an error, none. A job whose unique key is held (by an active job, or by
// an earlier job of the same batch) is reported as a duplicate.
func (s *Store) JobInsertMany(ctx context.Context, p *storage.JobInsertManyParams) ([]*storage.JobInsertResult, error) {
	for i, j := range p.Jobs {
		if err := j.Validate(); err != nil {
			return nil, fmt.Errorf("sqlite: insert many: job %d: %w", i, err)
		}
	}
	if len(p.Jobs) == 0 {
		if err := s.check("insert many"); err != nil {
			return nil, err
		}
		return []*storage.JobInsertResult{}, nil
	}
	res := make([]*storage.JobInsertResult, len(p.Jobs))
	err := s.withTx(ctx, "insert many", func(ctx context.Context, tx *sql.Tx) error {
		for i, j := range p.Jobs {
			now := j.Now
			if now.IsZero() {
				now = p.Now
			}
			r, err := s.insert(ctx, tx, j, now)
			if err != nil {
				return fmt.Errorf("job %d: %w", i, err)
			}
			res[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// insert writes one validated job inside tx.
func (s *Store) insert(ctx context.Context, tx *sql.Tx, p *storage.JobInsertParams, now time.Time) (*storage.JobInsertResult, error) {
	now = clock(now)
	if p.UniqueKey != "" {
		j, err := scanJob(tx.StmtContext(ctx, s.stmts.findUnique).QueryRowContext(ctx, p.Kind, p.UniqueKey))
		if err == sql.ErrNoRows && p.UniqueFor > 0 {
			j, err = scanJob(tx.StmtContext(ctx, s.stmts.findUniqueWindow).QueryRowContext(ctx, p.Kind, p.UniqueKey, now.Add(-p.UniqueFor).UnixMicro()))
		}
		switch {
		case err == nil:
			return &storage.JobInsertResult{Job: j, Duplicate: true}, nil
		case err != sql.ErrNoRows:
			return nil, err
		}
	}
	runAfter := now
	if !p.RunAfter.IsZero() {
		runAfter = p.RunAfter.UTC().Truncate(time.Microsecond)
	}
	var deadline time.Time
	if !p.Deadline.IsZero() {
		deadline = p.Deadline.UTC().Truncate(time.Microsecond)
	}
	input := p.Input
	if input == nil {
		input = []byte{}
	}
	r, err := tx.StmtContext(ctx, s.stmts.insert).ExecContext(ctx,
		p.Kind, p.Queue, input, p.Priority, p.MaxAttempts, runAfter.UnixMicro(),
		micros(deadline), int64(p.Timeout), p.UniqueKey, now.UnixMicro(), metadataParam(p.Metadata))
	if err != nil {
		return nil, err
	}
	id, err := r.LastInsertId()
	if err != nil {
		return nil, err
	}
	return &storage.JobInsertResult{Job: &storage.Job{
		ID:          id,
		Kind:        p.Kind,
		Queue:       p.Queue,
		Input:       append([]byte{}, input...),
		State:       storage.StatePending,
		Priority:    p.Priority,
		MaxAttempts: p.MaxAttempts,
		RunAfter:    runAfter,
		Deadline:    deadline,
		Timeout:     p.Timeout,
		UniqueKey:   p.UniqueKey,
		Metadata:    cloneMetadata(p.Metadata),
		CreatedAt:   now,
	}}, nil
}

// JobClaim claims up to p.Limit ready jobs in one write transaction. In the
// same transaction it fails jobs whose lease expired with no attempt left
// (ErrorCode "lease_expired"), rescues other expired leases with fresh
// tokens, and reads NextRunAfter.
func (s *Store) JobClaim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	var res *storage.JobClaimResult
	err := s.withTx(ctx, "claim", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = s.claim(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// JobInsertClaim inserts i and claims with c in one write transaction.
func (s *Store) JobInsertClaim(ctx context.Context, i *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error) {
	if err := i.Validate(); err != nil {
		return nil, nil, fmt.Errorf("sqlite: insert: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	var (
		ins *storage.JobInsertResult
		cl  *storage.JobClaimResult
	)
	err := s.withTx(ctx, "insert and claim", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if ins, err = s.insert(ctx, tx, i, i.Now); err != nil {
			return err
		}
		cl, err = s.claim(ctx, tx, c)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return ins, cl, nil
}

// claim is JobClaim inside tx.
func (s *Store) claim(ctx context.Context, tx *sql.Tx, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	kinds, err := json.Marshal(p.Kinds)
	if err != nil {
		return nil, err
	}
	now := clock(p.Now)
	nowUS := now.UnixMicro()
	expires := now.Add(p.LeaseDuration).UnixMicro()
	res := &storage.JobClaimResult{Now: now, Jobs: []*storage.ClaimedJob{}}
	if paused, err := s.paused(ctx, tx, p.Queue); err != nil || paused {
		return res, err
	}
	if _, err := tx.StmtContext(ctx, s.stmts.failExpired).ExecContext(ctx, p.Queue, nowUS, kinds); err != nil {
		return nil, fmt.Errorf("fail expired leases: %w", err)
	}
	jobs, err := queryCandidates(ctx, tx.StmtContext(ctx, s.stmts.claimPending), p.Queue, nowUS, kinds, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("select pending: %w", err)
	}
	expired, err := queryCandidates(ctx, tx.StmtContext(ctx, s.stmts.claimExpired), p.Queue, nowUS, kinds, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("select expired leases: %w", err)
	}
	if len(expired) > 0 {
		jobs = append(jobs, expired...)
		slices.SortFunc(jobs, claimOrder)
		if len(jobs) > p.Limit {
			jobs = jobs[:p.Limit]
		}
	}
	if len(jobs) > 0 {
		var last int64
		if err := tx.StmtContext(ctx, s.stmts.nextToken).QueryRowContext(ctx, len(jobs)).Scan(&last); err != nil {
			return nil, fmt.Errorf("lease token: %w", err)
		}
		token := last - int64(len(jobs))
		claim := tx.StmtContext(ctx, s.stmts.claimOne)
		res.Jobs = make([]*storage.ClaimedJob, len(jobs))
		for i, c := range jobs {
			token++
			if _, err := claim.ExecContext(ctx, token, expires, nowUS, c.ID); err != nil {
				return nil, fmt.Errorf("claim job %d: %w", c.ID, err)
			}
			c.Attempt++
			c.LeaseToken = token
			c.LeaseExpiresAt = time.UnixMicro(expires).UTC()
			res.Jobs[i] = &c.ClaimedJob
		}
	}
	var next int64
	switch err := tx.StmtContext(ctx, s.stmts.nextRunAfter).QueryRowContext(ctx, p.Queue, nowUS, kinds).Scan(&next); {
	case err == nil:
		res.NextRunAfter = time.UnixMicro(next).UTC()
	case err != sql.ErrNoRows:
		return nil, fmt.Errorf("next run after: %w", err)
	}
	return res, nil
}

// claimOrder orders candidates by priority, RunAfter, ID.
func claimOrder(a, b *candidate) int {
	if c := cmp.Compare(a.priority, b.priority); c != 0 {
		return c
	}
	if c := cmp.Compare(a.runAfter, b.runAfter); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// queryCandidates runs a statement that selects claimColumns and scans
// every row.
func queryCandidates(ctx context.Context, stmt *sql.Stmt, args ...any) ([]*candidate, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var jobs []*candidate
	for rows.Next() {
		j, err := scanCandidate(rows)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// JobHeartbeat extends every lease still held with its token, in one
// transaction, and reports lost leases and abort requests.
func (s *Store) JobHeartbeat(ctx context.Context, p *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: heartbeat: %w", err)
	}
	res := &storage.JobHeartbeatResult{}
	if len(p.Leases) == 0 {
		return res, s.check("heartbeat")
	}
	now := clock(p.Now)
	expires := now.Add(p.LeaseDuration).UnixMicro()
	err := s.withTx(ctx, "heartbeat", func(ctx context.Context, tx *sql.Tx) error {
		res.Lost, res.AbortRequested = nil, nil
		hb := tx.StmtContext(ctx, s.stmts.heartbeat)
		for _, l := range p.Leases {
			var abortAt sql.NullInt64
			switch err := hb.QueryRowContext(ctx, expires, l.ID, l.Token).Scan(&abortAt); {
			case err == sql.ErrNoRows:
				res.Lost = append(res.Lost, l.ID)
			case err != nil:
				return fmt.Errorf("job %d: %w", l.ID, err)
			case abortAt.Valid:
				res.AbortRequested = append(res.AbortRequested, l.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// JobFinish writes every outcome in one transaction (group commit). Each
// write is fenced by id, state running and the lease token. An entry that
// fails JobFinish.Validate is left out, and one whose write SQLite refuses
// for a value it carries (see dataError) fails alone: SQLite undoes a
// failed statement, not the transaction.
func (s *Store) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: finish: %w", err)
	}
	res := &storage.JobFinishResult{Applied: make([]bool, len(p.Jobs))}
	for i := range p.Jobs {
		if err := p.Jobs[i].Validate(); err != nil {
			res.SetErr(i, fmt.Errorf("sqlite: finish: %w", err))
		}
	}
	if len(p.Jobs) == 0 {
		return res, s.check("finish")
	}
	now := clock(p.Now)
	nowUS := now.UnixMicro()
	err := s.withTx(ctx, "finish", func(ctx context.Context, tx *sql.Tx) error {
		var cache [6]*sql.Stmt
		stmt := func(i int, st *sql.Stmt) *sql.Stmt {
			if cache[i] == nil {
				cache[i] = tx.StmtContext(ctx, st)
			}
			return cache[i]
		}
		for i, f := range p.Jobs {
			if res.Err(i) != nil {
				continue
			}
			var (
				r   sql.Result
				err error
			)
			switch {
			case f.Delete && f.Outcome.State().Terminal():
				r, err = stmt(0, s.stmts.deleteHeld).ExecContext(ctx, f.ID, f.LeaseToken)
			case f.Outcome == storage.OutcomeComplete:
				output := f.Output
				if output == nil {
					output = []byte{}
				}
				r, err = stmt(1, s.stmts.complete).ExecContext(ctx, output, nowUS, f.ID, f.LeaseToken)
			case f.Outcome == storage.OutcomeFail || f.Outcome == storage.OutcomeAbort:
				r, err = stmt(2, s.stmts.end).ExecContext(ctx, string(f.Outcome.State()), f.ErrorMessage, f.ErrorCode,
					nowUS, f.ID, f.LeaseToken)
			case f.Outcome == storage.OutcomeRetry:
				r, err = stmt(3, s.stmts.retry).ExecContext(ctx, now.Add(f.RetryDelay).UnixMicro(), f.ErrorMessage,
					f.ErrorCode, f.ID, f.LeaseToken)
			case f.Outcome == storage.OutcomeRelease:
				r, err = stmt(4, s.stmts.release).ExecContext(ctx, now.Add(f.RetryDelay).UnixMicro(), f.ID, f.LeaseToken)
			}
			if dataError(err) {
				res.SetErr(i, s.mapErr(fmt.Sprintf("finish job %d", f.ID), err))
				continue
			}
			if err != nil {
				return fmt.Errorf("job %d: %w", f.ID, err)
			}
			n, err := r.RowsAffected()
			if err != nil {
				return fmt.Errorf("job %d: %w", f.ID, err)
			}
			res.Applied[i] = n == 1
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// JobAbort aborts a pending job, records an abort request on a running one
// and leaves a finished one unchanged (AbortTooLate).
func (s *Store) JobAbort(ctx context.Context, p *storage.JobAbortParams) (*storage.JobAbortResult, error) {
	now := clock(p.Now).UnixMicro()
	res := &storage.JobAbortResult{}
	err := s.withTx(ctx, fmt.Sprintf("abort job %d", p.ID), func(ctx context.Context, tx *sql.Tx) error {
		// Plain UPDATEs and one SELECT: an UPDATE … RETURNING that changes
		// an indexed column is far slower in SQLite.
		r, err := tx.ExecContext(ctx, sqlAbortPending, now, p.ID)
		if err != nil {
			return err
		}
		res.Result = storage.AbortTooLate
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			res.Result = storage.AbortedNow
		} else {
			r, err := tx.ExecContext(ctx, sqlRequestAbort, now, p.ID)
			if err != nil {
				return err
			}
			if n, err := r.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				res.Result = storage.AbortRequested
			}
		}
		j, err := scanJob(tx.QueryRowContext(ctx, sqlGet, p.ID))
		res.Job = j
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// JobDeleteFinished deletes up to p.Limit jobs in state p.State that
// finished before p.FinishedBefore, oldest first.
func (s *Store) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	if err := p.Validate(); err != nil {
		return 0, fmt.Errorf("sqlite: delete finished: %w", err)
	}
	if p.FinishedBefore.IsZero() {
		return 0, s.check("delete finished")
	}
	var n int64
	err := s.withTx(ctx, "delete finished", func(ctx context.Context, tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, sqlDeleteFinished, string(p.State), p.FinishedBefore.UnixMicro(), p.DeleteLimit())
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	return int(n), err
}
