package sqlite

import (
	"context"
	"database/sql"

	"github.com/jobgen/jobgen/runtime/storage"
)

// The statements of the queues table.
const (
	// sqlQueuePaused is the claim's check (prepared on the writer).
	sqlQueuePaused = `SELECT 1 FROM jobgen_queues WHERE name = ? AND paused_at IS NOT NULL`

	sqlQueuePause = `INSERT INTO jobgen_queues (name, paused_at, updated_at) VALUES (?1, ?2, ?2)
	ON CONFLICT (name) DO UPDATE SET paused_at = excluded.paused_at, updated_at = excluded.updated_at
	WHERE paused_at IS NULL`

	sqlQueueResume = `UPDATE jobgen_queues SET paused_at = NULL, updated_at = ?2
	WHERE name = ?1 AND paused_at IS NOT NULL`

	sqlQueueList = `SELECT name, paused_at, updated_at FROM jobgen_queues ORDER BY name`
)

// QueuePause pauses a queue: claims in every process take nothing from it
// once the pause has committed. The claim checks the queues table in its
// own write transaction, so a claim that began before the pause committed
// is the only one that may still take the queue's jobs.
func (s *Store) QueuePause(ctx context.Context, p *storage.QueuePauseParams) error {
	if err := p.Validate(); err != nil {
		return s.mapErr("pause queue", err)
	}
	return s.withTx(ctx, "pause queue", func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, sqlQueuePause, p.Queue, clock(p.Now).UnixMicro())
		return err
	})
}

// QueueResume resumes a paused queue. Other processes see it at their next
// poll.
func (s *Store) QueueResume(ctx context.Context, p *storage.QueueResumeParams) error {
	if err := p.Validate(); err != nil {
		return s.mapErr("resume queue", err)
	}
	return s.withTx(ctx, "resume queue", func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, sqlQueueResume, p.Queue, clock(p.Now).UnixMicro())
		return err
	})
}

// QueueList returns the stored queue states in name order.
func (s *Store) QueueList(ctx context.Context, p *storage.QueueListParams) ([]*storage.QueueState, error) {
	if err := s.check("list queues"); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, sqlQueueList)
	if err != nil {
		return nil, s.mapErr("list queues", err)
	}
	defer rows.Close()
	out := []*storage.QueueState{}
	for rows.Next() {
		var (
			q        storage.QueueState
			pausedAt sql.NullInt64
			updated  sql.NullInt64
		)
		if err := rows.Scan(&q.Name, &pausedAt, &updated); err != nil {
			return nil, s.mapErr("list queues", err)
		}
		q.Paused, q.PausedAt, q.UpdatedAt = pausedAt.Valid, fromMicros(pausedAt), fromMicros(updated)
		out = append(out, &q)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr("list queues", err)
	}
	return out, nil
}

// paused reports, inside a claim's transaction, whether queue is paused.
func (s *Store) paused(ctx context.Context, tx *sql.Tx, queue string) (bool, error) {
	var one int
	switch err := tx.StmtContext(ctx, s.stmts.queuePaused).QueryRowContext(ctx, queue).Scan(&one); err {
	case nil:
		return true, nil
	case sql.ErrNoRows:
		return false, nil
	default:
		return false, err
	}
}
