package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// scheduleColumns is the column list the schedule statements return, in
// the order scanSchedule reads it.
const scheduleColumns = `name, kind, queue, input, priority, max_attempts, timeout_ns, spec, time_zone, overlap, missed,
	next_at, last_job_id, created_at, updated_at`

// scheduleUpsertSQL stores a schedule, keeping the next_at of an existing
// one whose spec and time zone are unchanged.
//
// $1 now (NULL = the database's), $2 name, $3 kind, $4 queue, $5 input,
// $6 priority, $7 max attempts, $8 timeout (ns), $9 spec, $10 time zone,
// $11 overlap, $12 missed, $13 next_at.
const scheduleUpsertSQL = `WITH ` + clockCTE + `
INSERT INTO {schedules} AS s (` + scheduleColumns + `)
SELECT $2::text, $3::text, $4::text, $5::bytea, $6::int4, $7::int4, $8::int8, $9::text, $10::text, $11::text, $12::text,
	$13::timestamptz, 0, c.t, c.t
FROM clock c
ON CONFLICT (name) DO UPDATE SET
	kind = excluded.kind, queue = excluded.queue, input = excluded.input, priority = excluded.priority,
	max_attempts = excluded.max_attempts, timeout_ns = excluded.timeout_ns, overlap = excluded.overlap,
	missed = excluded.missed, updated_at = excluded.updated_at,
	next_at = CASE WHEN s.spec = excluded.spec AND s.time_zone = excluded.time_zone THEN s.next_at ELSE excluded.next_at END,
	spec = excluded.spec, time_zone = excluded.time_zone
RETURNING ` + scheduleColumns

// scheduleAdvanceSQL is a tick's compare and set: it advances schedule $2
// from next_at $3 to $4. A concurrent tick of the same schedule waits for
// this one's row lock and then finds next_at changed, so it takes no row.
//
// $1 now (NULL = the database's), $2 name, $3 from, $4 to.
const scheduleAdvanceSQL = `WITH ` + clockCTE + `
UPDATE {schedules} s SET next_at = $4::timestamptz, updated_at = c.t
FROM clock c
WHERE s.name = $2::text AND s.next_at = $3::timestamptz`

// ScheduleUpsert stores a schedule by name in one statement.
func (s *Store) ScheduleUpsert(ctx context.Context, p *storage.ScheduleUpsertParams) (*storage.Schedule, error) {
	if err := s.checkParams("store schedule", p); err != nil {
		return nil, err
	}
	input := p.Input
	if input == nil {
		input = []byte{}
	}
	sc, err := scanSchedule(s.run.QueryRow(ctx, s.n.render(scheduleUpsertSQL), ts(p.Now), p.Name, p.Kind, p.Queue, input,
		int32(p.Priority), int32(p.MaxAttempts), int64(p.Timeout), p.Spec, p.TimeZone, p.Overlap, p.Missed, ts(p.NextAt)))
	if err != nil {
		return nil, translate("store schedule", err)
	}
	return sc, nil
}

// ScheduleDelete removes a schedule.
func (s *Store) ScheduleDelete(ctx context.Context, p *storage.ScheduleDeleteParams) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("postgres: delete schedule: %w", err)
	}
	tag, err := s.run.Exec(ctx, s.n.render(`DELETE FROM {schedules} WHERE name = $1`), p.Name)
	if err != nil {
		return translate("delete schedule", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete schedule %q: %w", p.Name, storage.ErrScheduleNotFound)
	}
	return nil
}

// ScheduleList returns every schedule in name order.
func (s *Store) ScheduleList(ctx context.Context, p *storage.ScheduleListParams) ([]*storage.Schedule, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("postgres: list schedules: %w", err)
	}
	rows, err := s.run.Query(ctx, s.n.render(`SELECT `+scheduleColumns+` FROM {schedules} ORDER BY name`))
	if err != nil {
		return nil, translate("list schedules", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*storage.Schedule, error) { return scanSchedule(r) })
	if err != nil {
		return nil, translate("list schedules", err)
	}
	return out, nil
}

// ScheduleTick advances a schedule and inserts its job in one transaction
// (the caller's, through a WithTx view): the compare and set first, and
// the insert only when it took the row. The insert's notification goes
// out after the commit, as a JobInsert's does.
func (s *Store) ScheduleTick(ctx context.Context, p *storage.ScheduleTickParams) (*storage.ScheduleTickResult, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("postgres: tick schedule: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: tick schedule %q: %w", p.Name, err)
	}
	var res *storage.ScheduleTickResult
	body := func(q querier) error {
		res = &storage.ScheduleTickResult{}
		tag, err := q.Exec(ctx, s.n.render(scheduleAdvanceSQL), ts(p.Now), p.Name, ts(p.From), ts(p.To))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		res.Advanced = true
		if p.Job == nil {
			return nil
		}
		res.Job, err = s.tickInsert(ctx, q, p)
		return err
	}
	var err error
	if tx, ok := s.run.(txRunner); ok {
		err = body(tx.Tx)
	} else {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return body(tx) })
	}
	if err != nil {
		return nil, translate("tick schedule", err)
	}
	if res.Job != nil && !res.Job.Duplicate {
		s.floors.lower(res.Job)
		s.announce([]string{p.Job.Queue}, nil)
	}
	return res, nil
}

// tickInsert inserts the job of a tick in its transaction q, or finds the
// active job that holds its unique key, and records it as the schedule's
// last job. A tick's job has no unique window (UniqueFor), so the
// single-row insert serves it.
func (s *Store) tickInsert(ctx context.Context, q querier, p *storage.ScheduleTickParams) (*storage.JobInsertResult, error) {
	j := p.Job
	now := j.Now
	if now.IsZero() {
		now = p.Now
	}
	job, err := scanJob(q.QueryRow(ctx, s.q.insertOne, s.insertOneArgs(now, j, s.run.notifies())...))
	switch {
	case err == pgx.ErrNoRows: // skipped on its unique key: the holder is active in this transaction's snapshot
		holder, err := scanJob(q.QueryRow(ctx, s.q.activeByKey, []string{j.Kind}, []string{j.UniqueKey}))
		if err != nil {
			return nil, err
		}
		return &storage.JobInsertResult{Job: holder, Duplicate: true}, nil
	case err != nil:
		return nil, err
	}
	if _, err := q.Exec(ctx, s.n.render(`UPDATE {schedules} SET last_job_id = $2 WHERE name = $1`), p.Name, job.ID); err != nil {
		return nil, err
	}
	return &storage.JobInsertResult{Job: job}, nil
}

func scanSchedule(r pgx.Row) (*storage.Schedule, error) {
	var (
		sc      storage.Schedule
		timeout int64
		prio    int32
		tries   int32
	)
	err := r.Scan(&sc.Name, &sc.Kind, &sc.Queue, &sc.Input, &prio, &tries, &timeout, &sc.Spec, &sc.TimeZone,
		&sc.Overlap, &sc.Missed, &sc.NextAt, &sc.LastJobID, &sc.CreatedAt, &sc.UpdatedAt)
	if err != nil {
		return nil, err
	}
	sc.Priority, sc.MaxAttempts, sc.Timeout = int(prio), int(tries), time.Duration(timeout)
	sc.NextAt, sc.CreatedAt, sc.UpdatedAt = sc.NextAt.UTC(), sc.CreatedAt.UTC(), sc.UpdatedAt.UTC()
	return &sc, nil
}
