-- Job metadata: a JSON object of strings stored with each job at insert
-- (trace context, tags). NULL when the job has none, as every job stored
-- before this version.

ALTER TABLE {jobs} ADD COLUMN IF NOT EXISTS metadata jsonb;
