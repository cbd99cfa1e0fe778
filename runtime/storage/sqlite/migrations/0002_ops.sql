-- 0002: operations. The queues table holds each paused (or once paused)
-- queue; the claim reads it by name. The indexes serve job queries (each
-- reads one state's jobs in id order, of all queues or of one queue or
-- kind) and the counts per queue and state and per kind and state (read
-- from the index alone).
CREATE TABLE jobgen_queues (
	name       TEXT    PRIMARY KEY,
	paused_at  INTEGER,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX jobgen_jobs_state ON jobgen_jobs (state, id);
CREATE INDEX jobgen_jobs_queue_state ON jobgen_jobs (queue, state, id);
CREATE INDEX jobgen_jobs_kind_state ON jobgen_jobs (kind, state, id);
