-- Operations. The queues table holds each paused (or once paused) queue;
-- the claim reads it by name. The indexes serve job queries (each reads
-- one state's jobs in id order, of all queues or of one queue or kind)
-- and the counts per queue and state and per kind and state (index-only
-- scans). On a large existing table CREATE INDEX holds a write lock until
-- it is built: upgrade at a quiet time, or create these three indexes
-- CONCURRENTLY beforehand under the same names.

CREATE TABLE IF NOT EXISTS {queues} (
	name       text        PRIMARY KEY,
	paused_at  timestamptz,
	updated_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS {idx_state} ON {jobs} (state, id);
CREATE INDEX IF NOT EXISTS {idx_queue_state} ON {jobs} (queue, state, id);
CREATE INDEX IF NOT EXISTS {idx_kind_state} ON {jobs} (kind, state, id);
