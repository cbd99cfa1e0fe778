-- Unique windows (JobInsertParams.UniqueFor): the newest job of a kind
-- holding a unique key, whatever its state, found by one index scan from
-- the end of its key's entries.

CREATE INDEX IF NOT EXISTS {idx_unique_window} ON {jobs} (kind, unique_key, created_at)
	WHERE unique_key <> '';
