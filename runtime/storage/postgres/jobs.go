package postgres

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/jobgen/jobgen/runtime/storage"
)

// maxStatementRetries bounds how often a fenced statement is re-run after a
// deadlock or serialization failure rolled it back.
const maxStatementRetries = 5

// ts turns a caller's time into a parameter: nil (the database clock, or
// "not set") when zero, else UTC truncated to PostgreSQL's microseconds.
func ts(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

// micros converts a duration to whole microseconds, PostgreSQL's precision.
func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }

// scanJob reads jobColumns into a Job. extra are scanned first.
func scanJob(row pgx.Row, extra ...any) (*storage.Job, error) {
	var (
		j                                                     storage.Job
		state                                                 string
		runAfter, createdAt                                   time.Time
		leaseExp, abortReq, deadline, attemptedAt, finishedAt pgtype.Timestamptz
		timeoutNS                                             int64
	)
	dest := append(extra,
		&j.ID, &j.Kind, &j.Queue, &state, &j.Priority, &j.Attempt, &j.MaxAttempts, &runAfter,
		&j.LeaseToken, &leaseExp, &abortReq, &deadline, &timeoutNS, &j.Input, &j.Output,
		&j.ErrorMessage, &j.ErrorCode, &j.UniqueKey, &createdAt, &attemptedAt, &finishedAt)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	j.State = storage.State(state)
	j.RunAfter = runAfter.UTC()
	j.CreatedAt = createdAt.UTC()
	j.LeaseExpiresAt = timestamptz(leaseExp)
	j.AbortRequestedAt = timestamptz(abortReq)
	j.Deadline = timestamptz(deadline)
	j.AttemptedAt = timestamptz(attemptedAt)
	j.FinishedAt = timestamptz(finishedAt)
	j.Timeout = time.Duration(timeoutNS)
	return &j, nil
}

// claimedRow is one row of claimColumns: a claimed job and its place in
// claim order.
type claimedRow struct {
	job      *storage.ClaimedJob
	priority int
	runAfter time.Time
}

// claimScanner reads rows of claimColumns. Its scan targets are reused
// from row to row, and kind and queue names that are among the claim's own
// parameters are shared rather than copied, so a row costs the
// allocations of its job and its input only: the claim is the hottest read.
type claimScanner struct {
	names              []string // the claim's kinds and queue
	job                storage.ClaimedJob
	kind, queue        sharedName
	leaseExp, deadline pgtype.Timestamptz
	createdAt          time.Time
	timeoutNS          int64
	priority           int
	runAfter           time.Time
	targets            []any
}

func newClaimScanner(p *storage.JobClaimParams) *claimScanner {
	c := &claimScanner{names: slices.Concat(p.Kinds, []string{p.Queue})}
	c.kind = sharedName{dst: &c.job.Kind, names: c.names}
	c.queue = sharedName{dst: &c.job.Queue, names: c.names}
	c.targets = []any{&c.job.ID, &c.kind, &c.queue, &c.job.Input, &c.job.Attempt, &c.job.MaxAttempts, &c.job.LeaseToken,
		&c.leaseExp, &c.deadline, &c.timeoutNS, &c.createdAt, &c.priority, &c.runAfter}
	return c
}

// scan reads one row.
func (c *claimScanner) scan(rows pgx.Rows) (claimedRow, error) {
	c.job.Input = nil // the previous row's job keeps its input; scan into a new one
	if err := rows.Scan(c.targets...); err != nil {
		return claimedRow{}, err
	}
	j := c.job
	j.LeaseExpiresAt = timestamptz(c.leaseExp)
	j.Deadline = timestamptz(c.deadline)
	j.Timeout = time.Duration(c.timeoutNS)
	j.CreatedAt = c.createdAt.UTC()
	return claimedRow{job: &j, priority: c.priority, runAfter: c.runAfter}, nil
}

// timestamptz returns t in UTC, or the zero time for NULL.
func timestamptz(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// sharedName scans a text column into *dst: the string of names equal to
// the column's value when there is one, otherwise a copy of the value.
type sharedName struct {
	dst   *string
	names []string
}

// ScanBytes implements pgtype.BytesScanner; v is valid only during the call.
func (n *sharedName) ScanBytes(v []byte) error {
	for _, name := range n.names {
		if string(v) == name {
			*n.dst = name
			return nil
		}
	}
	*n.dst = string(v)
	return nil
}

// JobInsert inserts one pending job, or returns the active job of the same
// kind that holds its unique key with Duplicate set. Concurrent calls on
// the store (not on a WithTx view) share statements and commits (see
// insertBatcher).
func (s *Store) JobInsert(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	if s.root == s {
		// Checked before it joins a batch, which a bad job would fail.
		if err := s.checkInserts([]*storage.JobInsertParams{p}); err != nil {
			return nil, err
		}
		return s.inserts.insert(ctx, s, p)
	}
	rs, err := s.insert(ctx, s.db, []*storage.JobInsertParams{p}, time.Time{})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// JobInsertMany inserts many jobs in one statement (so one round trip and
// one transaction when no unique key is contended). Results are in the
// order of p.Jobs.
func (s *Store) JobInsertMany(ctx context.Context, p *storage.JobInsertManyParams) ([]*storage.JobInsertResult, error) {
	return s.insert(ctx, s.db, p.Jobs, p.Now)
}

// checkInserts returns the error that keeps jobs from being inserted at
// all: a closed store or an invalid job.
func (s *Store) checkInserts(jobs []*storage.JobInsertParams) error {
	if err := s.check(); err != nil {
		return err
	}
	for i, p := range jobs {
		if p == nil {
			return fmt.Errorf("postgres: insert job %d: %w: nil params", i, storage.ErrInvalid)
		}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("postgres: insert job %d: %w", i, err)
		}
	}
	return nil
}

func (s *Store) insert(ctx context.Context, q querier, jobs []*storage.JobInsertParams, now time.Time) ([]*storage.JobInsertResult, error) {
	if err := s.checkInserts(jobs); err != nil {
		return nil, err
	}
	return s.insertChecked(ctx, q, jobs, now)
}

// insertChecked is insert for jobs that passed checkInserts.
func (s *Store) insertChecked(ctx context.Context, q querier, jobs []*storage.JobInsertParams, now time.Time) ([]*storage.JobInsertResult, error) {
	if len(jobs) == 1 {
		j, err := s.insertOne(ctx, q, jobs[0], now)
		if err != nil || j != nil {
			return []*storage.JobInsertResult{{Job: j}}, err
		}
		// Skipped on its unique key: the general path finds the holder.
	}
	results := make([]*storage.JobInsertResult, len(jobs))
	todo := make([]int, len(jobs)) // indexes of jobs still to insert
	for i := range todo {
		todo[i] = i
	}
	// A unique key whose holder finishes between our insert and our lookup
	// sends the job round again; a few rounds settle any realistic race.
	for round := 0; len(todo) > 0; round++ {
		if round == maxStatementRetries {
			return nil, fmt.Errorf("postgres: insert: unique key holders kept changing; gave up after %d rounds", round)
		}
		next, err := s.insertRound(ctx, q, jobs, todo, now, results)
		if err != nil {
			return nil, err
		}
		todo = next
	}
	return results, nil
}

// insertOne inserts one job with insertOneSQL. It returns a nil job when
// the job was skipped on its unique key.
func (s *Store) insertOne(ctx context.Context, q querier, p *storage.JobInsertParams, now time.Time) (*storage.Job, error) {
	clock := p.Now
	if clock.IsZero() {
		clock = now
	}
	notify := s.root != s // the store itself announces after the commit
	j, err := scanJob(q.QueryRow(ctx, s.q.insertOne, ts(clock), p.Kind, p.Queue, p.Input, int32(p.Priority),
		int32(p.MaxAttempts), ts(p.RunAfter), ts(p.Deadline), int64(p.Timeout), p.UniqueKey, s.n.channel, notify))
	switch {
	case err == pgx.ErrNoRows:
		return nil, nil
	case err != nil:
		return nil, translate("insert", err)
	}
	if !notify {
		s.announcer.announce(s, []string{p.Queue}, nil)
	}
	return j, nil
}

// insertRound inserts jobs[todo...], fills results and returns the indexes
// that must go round again.
func (s *Store) insertRound(ctx context.Context, q querier, jobs []*storage.JobInsertParams, todo []int, now time.Time, results []*storage.JobInsertResult) ([]int, error) {
	n := len(todo)
	var (
		kinds, queues, keys = make([]string, n), make([]string, n), make([]string, n)
		inputs              = make([][]byte, n)
		prios, maxAtt       = make([]int32, n), make([]int32, n)
		runAfter, deadlines = make([]*time.Time, n), make([]*time.Time, n)
		nows                = make([]*time.Time, n)
		timeouts            = make([]int64, n)
	)
	for k, i := range todo {
		p := jobs[i]
		kinds[k], queues[k], keys[k], inputs[k] = p.Kind, p.Queue, p.UniqueKey, p.Input
		prios[k], maxAtt[k] = int32(p.Priority), int32(p.MaxAttempts)
		runAfter[k], deadlines[k], nows[k] = ts(p.RunAfter), ts(p.Deadline), ts(p.Now)
		timeouts[k] = int64(p.Timeout)
	}
	var notifyNow []string // through a WithTx view the statement notifies
	if s.root != s {
		notifyNow = distinct(queues)
	}
	rows, err := q.Query(ctx, s.q.insert, ts(now), kinds, queues, inputs, prios, maxAtt,
		runAfter, deadlines, timeouts, keys, nows, s.n.channel, notifyNow)
	if err != nil {
		return nil, translate("insert", err)
	}
	inserted := make([]bool, n)
	for rows.Next() {
		var ord int64
		j, err := scanJob(rows, &ord)
		if err != nil {
			rows.Close()
			return nil, translate("insert", err)
		}
		inserted[ord-1] = true
		results[todo[ord-1]] = &storage.JobInsertResult{Job: j}
	}
	if err := rows.Err(); err != nil {
		return nil, translate("insert", err)
	}
	if s.root == s {
		s.announcer.announce(s, distinct(queues), nil)
	}
	// Skipped rows lost on their unique key: to a job inserted earlier in
	// this batch, or to an active job the statement could see.
	type key struct{ kind, key string }
	holders := make(map[key]*storage.Job)
	var missing []int
	for k, ok := range inserted {
		if ok {
			j := results[todo[k]].Job
			holders[key{j.Kind, j.UniqueKey}] = j
		}
	}
	var lookKinds, lookKeys []string
	for k, ok := range inserted {
		if ok {
			continue
		}
		p := jobs[todo[k]]
		if h := holders[key{p.Kind, p.UniqueKey}]; h != nil {
			results[todo[k]] = &storage.JobInsertResult{Job: h.Clone(), Duplicate: true}
			continue
		}
		missing = append(missing, todo[k])
		lookKinds = append(lookKinds, p.Kind)
		lookKeys = append(lookKeys, p.UniqueKey)
	}
	if len(missing) == 0 {
		return nil, nil
	}
	rows, err = q.Query(ctx, s.q.activeByKey, lookKinds, lookKeys)
	if err != nil {
		return nil, translate("insert: find unique key holders", err)
	}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return nil, translate("insert: find unique key holders", err)
		}
		holders[key{j.Kind, j.UniqueKey}] = j
	}
	if err := rows.Err(); err != nil {
		return nil, translate("insert: find unique key holders", err)
	}
	var again []int
	for _, i := range missing {
		p := jobs[i]
		if h := holders[key{p.Kind, p.UniqueKey}]; h != nil {
			results[i] = &storage.JobInsertResult{Job: h.Clone(), Duplicate: true}
		} else {
			again = append(again, i)
		}
	}
	return again, nil
}

// JobClaim claims up to p.Limit ready jobs in one statement (see claimSQL),
// with its plan pinned (see pinGenericSQL), and reads the clock and the
// next run_after behind it in the same round trip and transaction.
func (s *Store) JobClaim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	var res *storage.JobClaimResult
	err := retry(ctx, func() error {
		if s.root != s { // in the caller's transaction, planned for the actual parameters
			args := append([]any{pgx.QueryExecModeExec}, s.claimArgs(p)...)
			rows, err := s.db.Query(ctx, s.q.claim, args...)
			if err != nil {
				return err
			}
			res, err = readClaim(rows, p, func() pgx.Row { return s.db.QueryRow(ctx, s.q.claimPeek, args[:4]...) })
			return err
		}
		return s.pinnedBatch(ctx, pinGenericSQL, func(b *pgx.Batch) { s.queueClaim(b, p) }, func(br pgx.BatchResults) (err error) {
			res, err = readBatchClaim(br, p)
			return err
		})
	})
	if err != nil {
		return nil, translate("claim", err)
	}
	return res, nil
}

// claimArgs are the arguments of claimSQL; the first three are those of
// claimPeekSQL.
func (s *Store) claimArgs(p *storage.JobClaimParams) []any {
	return []any{ts(p.Now), p.Queue, p.Kinds, int64(p.Limit), micros(p.LeaseDuration), s.n.channel}
}

// queueClaim queues the claim and its peek on b; readBatchClaim reads them.
func (s *Store) queueClaim(b *pgx.Batch, p *storage.JobClaimParams) {
	args := s.claimArgs(p)
	b.Queue(s.q.claim, args...)
	b.Queue(s.q.claimPeek, args[:3]...)
}

// readBatchClaim reads the claim and peek that queueClaim queued.
func readBatchClaim(br pgx.BatchResults, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return readClaim(rows, p, br.QueryRow)
}

// readClaim reads the claimed jobs from rows, which it closes, then the
// clock and next run_after from the row peek returns, and puts the jobs in
// claim order.
func readClaim(rows pgx.Rows, p *storage.JobClaimParams, peek func() pgx.Row) (*storage.JobClaimResult, error) {
	var claimed []claimedRow
	c := newClaimScanner(p)
	for rows.Next() {
		r, err := c.scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		claimed = append(claimed, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var (
		now  time.Time
		next pgtype.Timestamptz
	)
	if err := peek().Scan(&now, &next); err != nil {
		return nil, err
	}
	slices.SortFunc(claimed, func(a, b claimedRow) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), a.runAfter.Compare(b.runAfter), cmp.Compare(a.job.ID, b.job.ID))
	})
	res := &storage.JobClaimResult{Now: now.UTC(), NextRunAfter: timestamptz(next), Jobs: make([]*storage.ClaimedJob, len(claimed))}
	for i, r := range claimed {
		res.Jobs[i] = r.job
	}
	return res, nil
}

// JobInsertClaim inserts one job and claims in the same implicit
// transaction: the pin, the single-row insert and the claim go pipelined in
// one round trip, and commit once. A job skipped on its unique key is then
// resolved to its holder as JobInsert does. Through a WithTx view it is
// JobInsert and then JobClaim in the caller's transaction.
func (s *Store) JobInsertClaim(ctx context.Context, i *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error) {
	if err := s.checkInserts([]*storage.JobInsertParams{i}); err != nil {
		return nil, nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, nil, fmt.Errorf("postgres: claim: %w", err)
	}
	if s.root != s {
		ins, err := s.JobInsert(ctx, i)
		if err != nil {
			return nil, nil, err
		}
		cl, err := s.JobClaim(ctx, c)
		return ins, cl, err
	}
	var (
		job *storage.Job
		cl  *storage.JobClaimResult
	)
	err := retry(ctx, func() error {
		queue := func(b *pgx.Batch) {
			b.Queue(s.q.insertOne, ts(i.Now), i.Kind, i.Queue, i.Input, int32(i.Priority), int32(i.MaxAttempts),
				ts(i.RunAfter), ts(i.Deadline), int64(i.Timeout), i.UniqueKey, s.n.channel, false)
			s.queueClaim(b, c)
		}
		return s.pinnedBatch(ctx, pinGenericSQL, queue, func(br pgx.BatchResults) (err error) {
			job, err = scanJob(br.QueryRow())
			if err == pgx.ErrNoRows {
				job, err = nil, nil
			}
			if err != nil {
				return err
			}
			cl, err = readBatchClaim(br, c)
			return err
		})
	})
	if err != nil {
		return nil, nil, translate("insert and claim", err)
	}
	if job == nil { // skipped on its unique key: find the holder
		ins, err := s.JobInsert(ctx, i)
		return ins, cl, err
	}
	if !slices.ContainsFunc(cl.Jobs, func(j *storage.ClaimedJob) bool { return j.ID == job.ID }) {
		s.announcer.announce(s, []string{i.Queue}, nil) // others may claim it
	}
	return &storage.JobInsertResult{Job: job}, cl, nil
}

// pinnedQuery runs sql pipelined behind pin (pinSQL or pinGenericSQL) in
// one round trip and one implicit transaction, and hands the rows to scan,
// which must close them. Through a WithTx view the settings are left alone
// (they would outlive the statement in the caller's transaction) and the
// statement is sent unnamed, so it is planned for its actual parameters.
func (s *Store) pinnedQuery(ctx context.Context, pin, sql string, args []any, scan func(pgx.Rows) error) error {
	if s.root != s {
		rows, err := s.db.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
		if err != nil {
			return err
		}
		return scan(rows)
	}
	return s.pinnedBatch(ctx, pin, func(b *pgx.Batch) { b.Queue(sql, args...) }, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		return scan(rows)
	})
}

// pinnedBatch sends pin and the statements queue adds in one round trip
// and one implicit transaction of the pool, and hands their results to
// read.
func (s *Store) pinnedBatch(ctx context.Context, pin string, queue func(*pgx.Batch), read func(pgx.BatchResults) error) error {
	b := &pgx.Batch{}
	b.Queue(pin)
	queue(b)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return err
	}
	if err := read(br); err != nil {
		return err
	}
	return br.Close()
}

// retry runs f again after a deadlock or serialization failure, which roll
// the whole statement back, so a fenced statement can simply be re-run.
func retry(ctx context.Context, f func() error) error {
	var err error
	for range maxStatementRetries {
		if err = f(); err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// JobFinish writes every outcome in one statement (group commit), each
// fenced by its lease token, and notifies "finished" for applied terminal
// ones and "inserted" for jobs back to pending.
func (s *Store) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: finish: %w", err)
	}
	res := &storage.JobFinishResult{Applied: make([]bool, len(p.Jobs))}
	// Entries apply in order. An id given twice goes into a later round, so
	// its second entry sees what the first one did; normally there is one
	// round.
	var rounds [][]int
	seen := make(map[int64]int, len(p.Jobs))
	for i, f := range p.Jobs {
		r := seen[f.ID]
		seen[f.ID] = r + 1
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], i)
	}
	for _, order := range rounds {
		if err := s.finishRound(ctx, p, order, res.Applied); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// finishRound writes the entries p.Jobs[order...], whose ids are distinct,
// in one statement.
func (s *Store) finishRound(ctx context.Context, p *storage.JobFinishParams, order []int, applied []bool) error {
	// Send entries in id order, so concurrent finishes and heartbeats lock
	// rows in the same order.
	sort.Slice(order, func(a, b int) bool { return p.Jobs[order[a]].ID < p.Jobs[order[b]].ID })
	n := len(order)
	var (
		gone      int // entries whose row is deleted
		completed int // entries completing a job, their row kept
	)
	for _, i := range order {
		f := &p.Jobs[i]
		if f.Delete && f.Outcome.State().Terminal() {
			gone++
		} else if f.Outcome == storage.OutcomeComplete {
			completed++
		}
	}
	// The store announces what the statement did after its commit, and
	// writes a round that only updates, only completes or only deletes with
	// a statement of its own kind (of one job: with plain parameters); a
	// WithTx view has the general statement notify, so that it happens at
	// the caller's commit.
	var (
		sql      string
		args     []any
		pin      = pinSQL // statements joining their input to the table are planned per call
		finished = make([]int64, 0, n)
		queues   []string
		first    = &p.Jobs[order[0]]
	)
	switch {
	case s.root != s:
		c := newFinishColumns(p, order, true)
		sql, args = s.q.finish, []any{ts(p.Now), c.ids, c.toks, c.outcomes, c.outputs, c.msgs, c.codes, c.delays, c.dels, &s.n.channel}
	case n == 1 && gone == 0:
		sql, pin = s.q.finishOne, pinGenericSQL
		args = []any{ts(p.Now), first.ID, first.LeaseToken, int32(first.Outcome), first.Output, first.ErrorMessage,
			first.ErrorCode, micros(first.RetryDelay)}
	case n == 1:
		sql, args, pin = s.q.finishOneDelete, []any{first.ID, first.LeaseToken}, pinGenericSQL
	case completed == n:
		c := newFinishColumns(p, order, false)
		if shared, ok := sameOutput(c.outputs); ok {
			sql, args = s.q.finishComplete, []any{ts(p.Now), c.ids, c.toks, [][]byte{}, shared}
		} else {
			sql, args = s.q.finishComplete, []any{ts(p.Now), c.ids, c.toks, c.outputs, nil}
		}
	case gone == n:
		c := newFinishColumns(p, order, false)
		sql, args = s.q.finishDelete, []any{c.ids, c.toks}
	case gone == 0:
		c := newFinishColumns(p, order, true)
		sql, args = s.q.finishUpdate, []any{ts(p.Now), c.ids, c.toks, c.outcomes, c.outputs, c.msgs, c.codes, c.delays}
	default:
		c := newFinishColumns(p, order, true)
		sql, args = s.q.finish, []any{ts(p.Now), c.ids, c.toks, c.outcomes, c.outputs, c.msgs, c.codes, c.delays, c.dels, nil}
	}
	err := retry(ctx, func() error {
		for _, i := range order {
			applied[i] = false
		}
		finished, queues = finished[:0], queues[:0]
		return s.pinnedQuery(ctx, pin, sql, args, func(rows pgx.Rows) error {
			defer rows.Close()
			for rows.Next() {
				var ord int64
				if err := rows.Scan(&ord, nil); err != nil { // the queue is read below, when needed
					return err
				}
				f := &p.Jobs[order[ord-1]]
				applied[order[ord-1]] = true
				if f.Outcome.State().Terminal() {
					finished = append(finished, f.ID)
				} else if queue := rows.RawValues()[1]; !slices.ContainsFunc(queues, func(q string) bool { return q == string(queue) }) {
					queues = append(queues, string(queue))
				}
			}
			return rows.Err()
		})
	})
	if err != nil {
		return translate("finish", err)
	}
	if s.root == s {
		s.announcer.announce(s, queues, finished)
	}
	return nil
}

// finishColumns are the entries of one finish round as the array
// parameters of the finish statements, in round order.
type finishColumns struct {
	ids, toks, delays []int64
	outcomes          []int32
	outputs           [][]byte
	msgs, codes       []string
	dels              []bool
}

// newFinishColumns returns the ids, tokens and outputs of the entries
// p.Jobs[order...], and with all the other columns too.
func newFinishColumns(p *storage.JobFinishParams, order []int, all bool) *finishColumns {
	n := len(order)
	c := &finishColumns{ids: make([]int64, n), toks: make([]int64, n), outputs: make([][]byte, n)}
	if all {
		c.delays, c.outcomes, c.msgs, c.codes, c.dels = make([]int64, n), make([]int32, n), make([]string, n), make([]string, n), make([]bool, n)
	}
	for k, i := range order {
		f := &p.Jobs[i]
		c.ids[k], c.toks[k], c.outputs[k] = f.ID, f.LeaseToken, f.Output
		if all {
			c.delays[k], c.outcomes[k], c.msgs[k], c.codes[k], c.dels[k] = micros(f.RetryDelay), int32(f.Outcome), f.ErrorMessage, f.ErrorCode, f.Delete
		}
	}
	return c
}

// sameOutput returns the output every entry of outputs has, if they all
// have the same one.
func sameOutput(outputs [][]byte) ([]byte, bool) {
	for _, o := range outputs[1:] {
		if !bytes.Equal(o, outputs[0]) {
			return nil, false
		}
	}
	return outputs[0], true
}

// distinct returns the distinct strings of xs, in first-seen order.
func distinct(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// JobHeartbeat extends every lease still held with its token in one
// statement, and reports the lost ones and those with an abort request.
func (s *Store) JobHeartbeat(ctx context.Context, p *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: heartbeat: %w", err)
	}
	res := &storage.JobHeartbeatResult{}
	if len(p.Leases) == 0 {
		return res, nil
	}
	leases := slices.Clone(p.Leases)
	slices.SortFunc(leases, func(a, b storage.Lease) int { return cmpInt64(a.ID, b.ID) })
	ids, toks := make([]int64, len(leases)), make([]int64, len(leases))
	for i, l := range leases {
		ids[i], toks[i] = l.ID, l.Token
	}
	held := make(map[int64]bool, len(leases))
	err := retry(ctx, func() error {
		clear(held)
		res.AbortRequested = res.AbortRequested[:0]
		args := []any{ts(p.Now), ids, toks, micros(p.LeaseDuration)}
		return s.pinnedQuery(ctx, pinSQL, s.q.heartbeat, args, func(rows pgx.Rows) error {
			defer rows.Close()
			for rows.Next() {
				var (
					id    int64
					abort bool
				)
				if err := rows.Scan(&id, &abort); err != nil {
					return err
				}
				held[id] = true
				if abort {
					res.AbortRequested = append(res.AbortRequested, id)
				}
			}
			return rows.Err()
		})
	})
	if err != nil {
		return nil, translate("heartbeat", err)
	}
	for _, l := range p.Leases {
		if !held[l.ID] {
			res.Lost = append(res.Lost, l.ID)
		}
	}
	slices.Sort(res.AbortRequested)
	return res, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// JobAbort aborts a pending job at once, records an abort request on a
// running one (and notifies its owner), and leaves a finished job alone.
func (s *Store) JobAbort(ctx context.Context, p *storage.JobAbortParams) (*storage.JobAbortResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	for range maxStatementRetries {
		j, err := scanJob(s.db.QueryRow(ctx, s.q.abort, ts(p.Now), p.ID, s.n.channel))
		switch {
		case err == nil && j.State == storage.StateAborted:
			return &storage.JobAbortResult{Result: storage.AbortedNow, Job: j}, nil
		case err == nil:
			return &storage.JobAbortResult{Result: storage.AbortRequested, Job: j}, nil
		case err != pgx.ErrNoRows:
			return nil, translate("abort", err)
		}
		// Finished, unknown, or changed under us: read it again.
		j, err = s.get(ctx, s.db, p.ID)
		if err != nil {
			return nil, translate("abort", err)
		}
		if j.State.Terminal() {
			return &storage.JobAbortResult{Result: storage.AbortTooLate, Job: j}, nil
		}
	}
	return nil, fmt.Errorf("postgres: abort job %d: its state kept changing", p.ID)
}

// JobGet returns one job, or an error matching storage.ErrNotFound.
func (s *Store) JobGet(ctx context.Context, p *storage.JobGetParams) (*storage.Job, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	j, err := s.get(ctx, s.db, p.ID)
	if err != nil {
		return nil, translate("get job "+strconv.FormatInt(p.ID, 10), err)
	}
	return j, nil
}

func (s *Store) get(ctx context.Context, q querier, id int64) (*storage.Job, error) {
	return scanJob(q.QueryRow(ctx, s.q.get, id))
}

// JobList returns jobs matching the filter in ascending id order after
// p.AfterID, at most p.ListLimit() of them.
func (s *Store) JobList(ctx context.Context, p *storage.JobListParams) ([]*storage.Job, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(s.q.listPrefix)
	args := []any{p.AfterID}
	if p.Queue != "" {
		args = append(args, p.Queue)
		fmt.Fprintf(&b, " AND j.queue = $%d", len(args))
	}
	if p.Kind != "" {
		args = append(args, p.Kind)
		fmt.Fprintf(&b, " AND j.kind = $%d", len(args))
	}
	if len(p.States) > 0 {
		states := make([]string, len(p.States))
		for i, st := range p.States {
			if !st.Valid() {
				return nil, fmt.Errorf("postgres: list: %w: state %q", storage.ErrInvalid, st)
			}
			states[i] = string(st)
		}
		args = append(args, states)
		fmt.Fprintf(&b, " AND j.state = ANY($%d::text[])", len(args))
	}
	args = append(args, p.ListLimit())
	fmt.Fprintf(&b, " ORDER BY j.id LIMIT $%d", len(args))
	rows, err := s.db.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, translate("list", err)
	}
	defer rows.Close()
	var out []*storage.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, translate("list", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, translate("list", err)
	}
	return out, nil
}

// JobDeleteFinished deletes up to p.DeleteLimit() jobs in terminal state
// p.State that finished before p.FinishedBefore, oldest first.
func (s *Store) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if err := p.Validate(); err != nil {
		return 0, fmt.Errorf("postgres: delete finished: %w", err)
	}
	tag, err := s.db.Exec(ctx, s.q.deleteFinished, string(p.State), ts(p.FinishedBefore), p.DeleteLimit())
	if err != nil {
		return 0, translate("delete finished", err)
	}
	return int(tag.RowsAffected()), nil
}
