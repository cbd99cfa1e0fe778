package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

const scheduleColumns = `name, kind, queue, input, priority, max_attempts, timeout_ns, spec, time_zone, overlap, missed, next_at, last_job_id, created_at, updated_at`

// ScheduleUpsert stores a schedule by name in one write transaction,
// keeping the next_at of an existing one whose spec and time zone are
// unchanged.
func (s *Store) ScheduleUpsert(ctx context.Context, p *storage.ScheduleUpsertParams) (*storage.Schedule, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: store schedule: %w", err)
	}
	now := clock(p.Now)
	input := p.Input
	if input == nil {
		input = []byte{}
	}
	var sc *storage.Schedule
	err := s.withTx(ctx, "store schedule", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		sc, err = scanSchedule(tx.QueryRowContext(ctx, `
INSERT INTO jobgen_schedules (`+scheduleColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
ON CONFLICT (name) DO UPDATE SET
	kind = excluded.kind, queue = excluded.queue, input = excluded.input,
	priority = excluded.priority, max_attempts = excluded.max_attempts, timeout_ns = excluded.timeout_ns,
	overlap = excluded.overlap, missed = excluded.missed, updated_at = excluded.updated_at,
	next_at = CASE WHEN spec = excluded.spec AND time_zone = excluded.time_zone THEN next_at ELSE excluded.next_at END,
	spec = excluded.spec, time_zone = excluded.time_zone
RETURNING `+scheduleColumns,
			p.Name, p.Kind, p.Queue, input, p.Priority, p.MaxAttempts, int64(p.Timeout),
			p.Spec, p.TimeZone, p.Overlap, p.Missed, p.NextAt.UnixMicro(), now.UnixMicro(), now.UnixMicro()))
		return err
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// ScheduleDelete removes a schedule.
func (s *Store) ScheduleDelete(ctx context.Context, p *storage.ScheduleDeleteParams) error {
	return s.withTx(ctx, "delete schedule", func(ctx context.Context, tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM jobgen_schedules WHERE name = ?`, p.Name)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err == nil && n == 0 {
			err = fmt.Errorf("%q: %w", p.Name, storage.ErrScheduleNotFound)
		}
		return err
	})
}

// ScheduleList returns every schedule in name order, through the read pool.
func (s *Store) ScheduleList(ctx context.Context, p *storage.ScheduleListParams) ([]*storage.Schedule, error) {
	if err := s.check("list schedules"); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+scheduleColumns+` FROM jobgen_schedules ORDER BY name`)
	if err != nil {
		return nil, s.mapErr("list schedules", err)
	}
	defer rows.Close()
	out := []*storage.Schedule{}
	for rows.Next() {
		sc, err := scanSchedule(rows)
		if err != nil {
			return nil, s.mapErr("list schedules", err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr("list schedules", err)
	}
	return out, nil
}

// ScheduleTick advances a schedule from p.From to p.To and inserts its job
// in one write transaction, when its next_at is still p.From.
func (s *Store) ScheduleTick(ctx context.Context, p *storage.ScheduleTickParams) (*storage.ScheduleTickResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: tick schedule %q: %w", p.Name, err)
	}
	now := clock(p.Now)
	var res *storage.ScheduleTickResult
	err := s.withTx(ctx, "tick schedule", func(ctx context.Context, tx *sql.Tx) error {
		res = &storage.ScheduleTickResult{}
		r, err := tx.ExecContext(ctx, `UPDATE jobgen_schedules SET next_at = ?, updated_at = ? WHERE name = ? AND next_at = ?`,
			p.To.UnixMicro(), now.UnixMicro(), p.Name, p.From.UnixMicro())
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n == 0 {
			return err
		}
		res.Advanced = true
		if p.Job == nil {
			return nil
		}
		jobNow := p.Job.Now
		if jobNow.IsZero() {
			jobNow = now
		}
		if res.Job, err = s.insert(ctx, tx, p.Job, jobNow); err != nil {
			return err
		}
		if !res.Job.Duplicate {
			_, err = tx.ExecContext(ctx, `UPDATE jobgen_schedules SET last_job_id = ? WHERE name = ?`, res.Job.Job.ID, p.Name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func scanSchedule(r rowScanner) (*storage.Schedule, error) {
	var (
		sc                          storage.Schedule
		timeout                     int64
		next, created, updated, job int64
	)
	err := r.Scan(&sc.Name, &sc.Kind, &sc.Queue, &sc.Input, &sc.Priority, &sc.MaxAttempts, &timeout,
		&sc.Spec, &sc.TimeZone, &sc.Overlap, &sc.Missed, &next, &job, &created, &updated)
	if err != nil {
		return nil, err
	}
	sc.Timeout = time.Duration(timeout)
	sc.LastJobID = job
	sc.NextAt, sc.CreatedAt, sc.UpdatedAt = time.UnixMicro(next).UTC(), time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return &sc, nil
}
