package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/jobgen/jobgen/runtime/storage"
)

// pausedSQL is true while queue $2 is paused; the claim checks it.
const pausedSQL = `EXISTS (SELECT 1 FROM {queues} qp WHERE qp.name = $2 AND qp.paused_at IS NOT NULL)`

// queuePauseSQL pauses a queue; a paused queue keeps its first pause time.
//
// $1 now, $2 queue.
const queuePauseSQL = `WITH ` + clockCTE + `
INSERT INTO {queues} AS q (name, paused_at, updated_at) SELECT $2, c.t, c.t FROM clock c
ON CONFLICT (name) DO UPDATE SET paused_at = excluded.paused_at, updated_at = excluded.updated_at
WHERE q.paused_at IS NULL`

// queueResumeSQL resumes a paused queue and notifies it as inserted ("i:"),
// which wakes every server that works it.
//
// $1 now, $2 queue, $3 channel.
const queueResumeSQL = `WITH ` + clockCTE + `,
upd AS (
	UPDATE {queues} q SET paused_at = NULL, updated_at = c.t FROM clock c
	WHERE q.name = $2 AND q.paused_at IS NOT NULL
	RETURNING q.name
)
SELECT count(pg_notify($3, 'i:' || upd.name)) FROM upd`

const queueListSQL = `SELECT name, paused_at, updated_at FROM {queues} ORDER BY name COLLATE "C"`

// QueuePause pauses a queue. The claim checks the queues table in its own
// statement, so once the pause has committed only a claim statement that
// began before it may still take the queue's jobs.
func (s *Store) QueuePause(ctx context.Context, p *storage.QueuePauseParams) error {
	if err := s.checkParams("pause queue", p); err != nil {
		return err
	}
	_, err := s.run.Exec(ctx, s.n.render(queuePauseSQL), ts(p.Now), p.Queue)
	return translate("pause queue", err)
}

// QueueResume resumes a paused queue and notifies the servers that work it.
func (s *Store) QueueResume(ctx context.Context, p *storage.QueueResumeParams) error {
	if err := s.checkParams("resume queue", p); err != nil {
		return err
	}
	_, err := s.run.Exec(ctx, s.n.render(queueResumeSQL), ts(p.Now), p.Queue, s.n.channel)
	return translate("resume queue", err)
}

// QueueList returns the stored queue states in name order.
func (s *Store) QueueList(ctx context.Context, p *storage.QueueListParams) ([]*storage.QueueState, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.run.Query(ctx, s.n.render(queueListSQL))
	if err != nil {
		return nil, translate("list queues", err)
	}
	defer rows.Close()
	out := []*storage.QueueState{}
	for rows.Next() {
		var (
			q        storage.QueueState
			pausedAt pgtype.Timestamptz
			updated  time.Time
		)
		if err := rows.Scan(&q.Name, &pausedAt, &updated); err != nil {
			return nil, translate("list queues", err)
		}
		q.Paused, q.PausedAt, q.UpdatedAt = pausedAt.Valid, timestamptz(pausedAt), updated.UTC()
		out = append(out, &q)
	}
	return out, translate("list queues", rows.Err())
}
