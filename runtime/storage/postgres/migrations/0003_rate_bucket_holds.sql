-- Holds of the global rate limiters (RateLimiter.Hold): no token is taken
-- from a bucket before its held_until. NULL when the bucket is not held.

ALTER TABLE {buckets} ADD COLUMN IF NOT EXISTS held_until timestamptz;
