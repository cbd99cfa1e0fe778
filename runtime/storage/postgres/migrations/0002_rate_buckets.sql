-- Token buckets of the global rate limiters (RateLimiter): one row per
-- limiter key, shared by every process.

CREATE TABLE IF NOT EXISTS {buckets} (
	name       text             PRIMARY KEY,
	tokens     double precision NOT NULL,
	updated_at timestamptz      NOT NULL,
	last_taken integer          NOT NULL DEFAULT 0
);
