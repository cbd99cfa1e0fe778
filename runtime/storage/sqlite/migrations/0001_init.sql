-- 0001: the job table, the lease-token counter and the indexes of the claim path.
CREATE TABLE jobgen_jobs (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	kind               TEXT    NOT NULL,
	queue              TEXT    NOT NULL,
	input              BLOB,
	output             BLOB,
	state              TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'failed', 'aborted')),
	priority           INTEGER NOT NULL DEFAULT 0,
	attempt            INTEGER NOT NULL DEFAULT 0,
	max_attempts       INTEGER NOT NULL,
	run_after          INTEGER NOT NULL,
	lease_token        INTEGER,
	lease_expires_at   INTEGER,
	abort_requested_at INTEGER,
	deadline           INTEGER,
	timeout_ns         INTEGER NOT NULL DEFAULT 0,
	error_message      TEXT    NOT NULL DEFAULT '',
	error_code         TEXT    NOT NULL DEFAULT '',
	unique_key         TEXT    NOT NULL DEFAULT '',
	created_at         INTEGER NOT NULL,
	attempted_at       INTEGER,
	finished_at        INTEGER
);

-- Claim: ready pending jobs of a queue in claim order.
CREATE INDEX jobgen_jobs_pending ON jobgen_jobs (queue, priority, run_after, id)
	WHERE state = 'pending';

-- Claim: the earliest future run_after of a queue (NextRunAfter).
CREATE INDEX jobgen_jobs_pending_run_after ON jobgen_jobs (queue, run_after)
	WHERE state = 'pending';

-- Claim: running jobs whose lease has expired (rescue).
CREATE INDEX jobgen_jobs_lease ON jobgen_jobs (queue, lease_expires_at)
	WHERE state = 'running';

-- Unique keys hold per kind among active jobs.
CREATE UNIQUE INDEX jobgen_jobs_unique ON jobgen_jobs (kind, unique_key)
	WHERE state IN ('pending', 'running') AND unique_key <> '';

-- Retention: finished jobs by state and age.
CREATE INDEX jobgen_jobs_finished ON jobgen_jobs (state, finished_at)
	WHERE finished_at IS NOT NULL;

-- Counters. lease_token only grows, so every claim gets a token no earlier
-- claim had.
CREATE TABLE jobgen_meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO jobgen_meta (key, value) VALUES ('lease_token', 0);
