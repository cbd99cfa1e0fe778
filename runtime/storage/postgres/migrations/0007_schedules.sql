-- The schedules of periodic jobs, one row per name. A tick advances
-- next_at from the value it read and inserts its job in the same
-- transaction (see ScheduleTick).
CREATE TABLE IF NOT EXISTS {schedules} (
	name         text        PRIMARY KEY,
	kind         text        NOT NULL,
	queue        text        NOT NULL,
	input        bytea       NOT NULL,
	priority     int4        NOT NULL,
	max_attempts int4        NOT NULL,
	timeout_ns   int8        NOT NULL,
	spec         text        NOT NULL,
	time_zone    text        NOT NULL,
	overlap      text        NOT NULL,
	missed       text        NOT NULL,
	next_at      timestamptz NOT NULL,
	last_job_id  int8        NOT NULL DEFAULT 0,
	created_at   timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL
);
