-- The jobs table, its lease-token sequence and the indexes the claim,
-- the deferred-job peek, unique keys and retention rely on.

CREATE SEQUENCE IF NOT EXISTS {lease_seq} AS bigint MINVALUE 1;
CREATE SEQUENCE IF NOT EXISTS {id_seq} AS bigint MINVALUE 1;

CREATE TABLE IF NOT EXISTS {jobs} (
	id                 bigint      PRIMARY KEY DEFAULT nextval('{id_seq_lit}'),
	kind               text        NOT NULL,
	queue              text        NOT NULL,
	state              text        NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'running', 'completed', 'failed', 'aborted')),
	priority           integer     NOT NULL DEFAULT 0,
	attempt            integer     NOT NULL DEFAULT 0,
	max_attempts       integer     NOT NULL CHECK (max_attempts >= 1),
	run_after          timestamptz NOT NULL,
	lease_token        bigint      NOT NULL DEFAULT 0,
	lease_expires_at   timestamptz,
	abort_requested_at timestamptz,
	deadline           timestamptz,
	timeout_ns         bigint      NOT NULL DEFAULT 0,
	input              bytea,
	output             bytea,
	error_message      text        NOT NULL DEFAULT '',
	error_code         text        NOT NULL DEFAULT '',
	unique_key         text        NOT NULL DEFAULT '',
	created_at         timestamptz NOT NULL,
	attempted_at       timestamptz,
	finished_at        timestamptz
) WITH (
	-- A queue table churns: every job is inserted, updated two or more
	-- times and usually deleted. Vacuum and analyse it far more often than
	-- the global defaults would, so dead index entries do not pile up in
	-- front of the claim and the planner sees the table's real size.
	autovacuum_vacuum_scale_factor = 0.01,
	autovacuum_vacuum_threshold = 1000,
	autovacuum_vacuum_insert_scale_factor = 0.05,
	autovacuum_vacuum_insert_threshold = 1000,
	autovacuum_analyze_scale_factor = 0.02,
	autovacuum_analyze_threshold = 1000,
	autovacuum_vacuum_cost_delay = 0
);

ALTER SEQUENCE {id_seq} OWNED BY {jobs}.id;
ALTER SEQUENCE {lease_seq} OWNED BY {jobs}.id;

-- Claim order among ready jobs of one queue.
CREATE INDEX IF NOT EXISTS {idx_pending} ON {jobs} (queue, priority, run_after, id)
	WHERE state = 'pending';

-- The earliest future run_after of a queue (the idle delay). It is keyed
-- on an expression the claim does not use, so the claim can only ever pick
-- the index above, whatever the statistics say: with no statistics yet (a
-- table that filled up faster than autovacuum analyses it), a plain
-- (queue, run_after) index looks cheaper to the planner and turns a claim
-- over a large backlog into a sort of the whole queue.
CREATE INDEX IF NOT EXISTS {idx_pending_run_after} ON {jobs} (queue, (run_after AT TIME ZONE 'UTC'))
	WHERE state = 'pending';

-- Rescue of running jobs whose lease has expired.
CREATE INDEX IF NOT EXISTS {idx_running_lease} ON {jobs} (lease_expires_at)
	WHERE state = 'running';

-- Unique keys hold per kind among active jobs.
CREATE UNIQUE INDEX IF NOT EXISTS {idx_unique} ON {jobs} (kind, unique_key)
	WHERE state IN ('pending', 'running') AND unique_key <> '';

-- Retention: delete finished jobs by state and age.
CREATE INDEX IF NOT EXISTS {idx_finished} ON {jobs} (state, finished_at)
	WHERE state IN ('completed', 'failed', 'aborted');
