-- 0005: the schedules of periodic jobs, one row per name. A tick advances
-- next_at from the value it read and inserts its job in the same
-- transaction (see ScheduleTick).
CREATE TABLE jobgen_schedules (
	name         TEXT    PRIMARY KEY,
	kind         TEXT    NOT NULL,
	queue        TEXT    NOT NULL,
	input        BLOB    NOT NULL,
	priority     INTEGER NOT NULL,
	max_attempts INTEGER NOT NULL,
	timeout_ns   INTEGER NOT NULL,
	spec         TEXT    NOT NULL,
	time_zone    TEXT    NOT NULL,
	overlap      TEXT    NOT NULL,
	missed       TEXT    NOT NULL,
	next_at      INTEGER NOT NULL,
	last_job_id  INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
