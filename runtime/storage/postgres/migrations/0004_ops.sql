-- Operations. The queues table holds each paused (or once paused) queue;
-- the claim reads it by name.
--
-- The indexes serve job queries (each arm reads one state's jobs in id
-- order, of all queues or of one queue or kind) and the counts (capped
-- index-only counts per queue or kind and state). The two of finished
-- jobs only are written once per job, when it finishes; the jobs of the
-- claim path (pending, running) are found through the claim's indexes.
-- The kind index holds every job: no other index has the kinds of
-- pending and running jobs. Its predicate is always true, but a statement
-- can only use it with a condition on the state, so the statements that
-- look a job up by id alone (the one-job finishes, whose generic plans are
-- made once per connection, possibly on an empty table) can only ever
-- pick the primary key.
--
-- On a large existing table CREATE INDEX holds a write lock until it is
-- built: upgrade at a quiet time, or create these three indexes
-- CONCURRENTLY beforehand under the same names.

CREATE TABLE IF NOT EXISTS {queues} (
	name       text        PRIMARY KEY,
	paused_at  timestamptz,
	updated_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS {idx_state} ON {jobs} (state, id)
	WHERE state = 'completed' OR state = 'failed' OR state = 'aborted';
CREATE INDEX IF NOT EXISTS {idx_queue_state} ON {jobs} (queue, state, id)
	WHERE state = 'completed' OR state = 'failed' OR state = 'aborted';
CREATE INDEX IF NOT EXISTS {idx_kind_state} ON {jobs} (kind, state, id)
	WHERE state IS NOT NULL;
