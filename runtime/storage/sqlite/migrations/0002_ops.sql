-- 0002: operations. The queues table holds each paused (or once paused)
-- queue; the claim reads it by name.
--
-- The indexes serve job queries (each arm reads one state's jobs in id
-- order, of all queues or of one queue or kind) and the counts (capped
-- counts per queue or kind and state, from the index alone). The two of
-- finished jobs only are written once per job, when it finishes; the jobs
-- of the claim path (pending, running) are found through the claim's
-- indexes. The kind index holds every job: no other index has the kinds
-- of pending and running jobs. A statement uses an index of finished jobs
-- only when its WHERE has the index's predicate as written, and the kind
-- index only with a condition on the state.
CREATE TABLE jobgen_queues (
	name       TEXT    PRIMARY KEY,
	paused_at  INTEGER,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX jobgen_jobs_state ON jobgen_jobs (state, id)
	WHERE state = 'completed' OR state = 'failed' OR state = 'aborted';
CREATE INDEX jobgen_jobs_queue_state ON jobgen_jobs (queue, state, id)
	WHERE state = 'completed' OR state = 'failed' OR state = 'aborted';
CREATE INDEX jobgen_jobs_kind_state ON jobgen_jobs (kind, state, id)
	WHERE state IS NOT NULL;
