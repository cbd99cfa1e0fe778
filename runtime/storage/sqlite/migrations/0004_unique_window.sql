-- Unique windows (JobInsertParams.UniqueFor): the newest job of a kind
-- holding a unique key, whatever its state, found by one index seek.
CREATE INDEX jobgen_jobs_unique_window ON jobgen_jobs (kind, unique_key, created_at)
	WHERE unique_key <> '';
