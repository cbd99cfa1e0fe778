package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobInsert inserts one pending job, or returns the active job of the same
// kind that holds its unique key with Duplicate set. Concurrent calls on
// the store (not on a WithTx view) share statements and commits (see
// insertBatcher).
func (s *Store) JobInsert(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	// Checked before it can join a batch, which a bad job would fail.
	if err := s.checkInserts([]*storage.JobInsertParams{p}); err != nil {
		return nil, err
	}
	res, err := s.run.insert(ctx, p)
	if err == nil {
		s.floors.lower(res)
	}
	return res, err
}

// insert sends the job through the store's insert batcher.
func (r poolRunner) insert(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	return r.s.inserts.insert(ctx, r.s, p)
}

// insert inserts the job at once: a transaction's inserts are not batched.
func (r txRunner) insert(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	rs, err := r.s.insertChecked(ctx, []*storage.JobInsertParams{p}, time.Time{})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// JobInsertMany inserts many jobs in one statement (so one round trip and
// one transaction when no unique key is contended), or, for a large batch
// without unique keys, with COPY (see insertCopy). Results are in the
// order of p.Jobs.
func (s *Store) JobInsertMany(ctx context.Context, p *storage.JobInsertManyParams) ([]*storage.JobInsertResult, error) {
	if err := s.checkInserts(p.Jobs); err != nil {
		return nil, err
	}
	var (
		res []*storage.JobInsertResult
		err error
	)
	if s.copies(p.Jobs) {
		res, err = s.insertCopy(ctx, p.Jobs, p.Now)
	} else {
		res, err = s.insertChecked(ctx, p.Jobs, p.Now)
	}
	if err == nil {
		s.floors.lower(res...)
	}
	return res, err
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

// insertChecked inserts jobs that passed checkInserts.
func (s *Store) insertChecked(ctx context.Context, jobs []*storage.JobInsertParams, now time.Time) ([]*storage.JobInsertResult, error) {
	if len(jobs) == 1 && jobs[0].UniqueFor == 0 {
		j, err := s.insertOne(ctx, jobs[0], now)
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
		rest, err := s.windowHolders(ctx, jobs, todo, now, results)
		if err != nil {
			return nil, err
		}
		if len(rest) == 0 {
			break
		}
		todo, err = s.insertRound(ctx, jobs, rest, now, results)
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

// insertOne inserts one job with insertOneSQL. It returns a nil job when
// the job was skipped on its unique key.
func (s *Store) insertOne(ctx context.Context, p *storage.JobInsertParams, now time.Time) (*storage.Job, error) {
	clock := p.Now
	if clock.IsZero() {
		clock = now
	}
	j, err := scanJob(s.run.QueryRow(ctx, s.q.insertOne, s.insertOneArgs(clock, p, s.run.notifies())...))
	switch {
	case err == pgx.ErrNoRows:
		return nil, nil
	case err != nil:
		return nil, translate("insert", err)
	}
	s.announce([]string{p.Queue}, nil)
	return j, nil
}

// insertOneArgs are the parameters of insertOneSQL for p at clock, which
// notifies the queue when notify is set.
func (s *Store) insertOneArgs(clock time.Time, p *storage.JobInsertParams, notify bool) []any {
	return []any{ts(clock), p.Kind, p.Queue, p.Input, int32(p.Priority), int32(p.MaxAttempts), ts(p.RunAfter),
		ts(p.Deadline), int64(p.Timeout), p.UniqueKey, s.n.channel, notify, string(storage.EncodeMetadata(p.Metadata))}
}

// insertRound inserts jobs[todo...], fills results and returns the indexes
// that must go round again.
func (s *Store) insertRound(ctx context.Context, jobs []*storage.JobInsertParams, todo []int, now time.Time, results []*storage.JobInsertResult) ([]int, error) {
	n := len(todo)
	var (
		kinds, queues, keys = make([]string, n), make([]string, n), make([]string, n)
		metadata            = make([]string, n)
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
		metadata[k] = string(storage.EncodeMetadata(p.Metadata))
	}
	distinctQueues := distinct(queues)
	var notifyNow []string // the queues the statement itself notifies
	if s.run.notifies() {
		notifyNow = distinctQueues
	}
	rows, err := s.run.Query(ctx, s.q.insert, ts(now), kinds, queues, inputs, prios, maxAtt,
		runAfter, deadlines, timeouts, keys, nows, s.n.channel, notifyNow, metadata)
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
	s.announce(distinctQueues, nil)
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
	rows, err = s.run.Query(ctx, s.q.activeByKey, lookKinds, lookKeys)
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

// windowHolders looks up the jobs of jobs[todo...] that have a unique
// window: each whose key a job created within the window holds is a
// duplicate of it, in results. It returns the indexes still to insert.
func (s *Store) windowHolders(ctx context.Context, jobs []*storage.JobInsertParams, todo []int, now time.Time, results []*storage.JobInsertResult) ([]int, error) {
	var (
		look        []int
		kinds, keys []string
		windows     []int64
		nows        []*time.Time
	)
	for _, i := range todo {
		if p := jobs[i]; p.UniqueFor > 0 && p.UniqueKey != "" {
			look = append(look, i)
			kinds, keys = append(kinds, p.Kind), append(keys, p.UniqueKey)
			windows, nows = append(windows, p.UniqueFor.Microseconds()), append(nows, ts(p.Now))
		}
	}
	if len(look) == 0 {
		return todo, nil
	}
	rows, err := s.run.Query(ctx, s.q.windowByKey, ts(now), kinds, keys, windows, nows)
	if err != nil {
		return nil, translate("insert: find unique window holders", err)
	}
	held := make(map[int]bool, len(look))
	for rows.Next() {
		var ord int64
		j, err := scanJob(rows, &ord)
		if err != nil {
			rows.Close()
			return nil, translate("insert: find unique window holders", err)
		}
		i := look[ord-1]
		held[i] = true
		results[i] = &storage.JobInsertResult{Job: j, Duplicate: true}
	}
	if err := rows.Err(); err != nil {
		return nil, translate("insert: find unique window holders", err)
	}
	rest := make([]int, 0, len(todo))
	for _, i := range todo {
		if !held[i] {
			rest = append(rest, i)
		}
	}
	return rest, nil
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
