package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// rateTimeout bounds each database round trip of a RateLimiter, on top of
// the deadline of the caller's context.
const rateTimeout = 5 * time.Second

// RateLimiter is a token bucket whose state lives in the database, so every
// process that uses the same key shares one rate: a global limit per queue,
// per API or per tenant. It implements limit.Limiter; pass it as a
// runtime.QueueConfig's Limiter. Time comes from the database clock; the
// now arguments of the interface are ignored. Each Acquire, Release, Hold
// and Reset is one statement, bounded by the caller's context and by
// rateTimeout; Done does nothing (a rate does not depend on how long jobs
// run).
//
// A hold is stored in the bucket's row, so it holds every process that
// shares the key. The bucket keeps filling while held. Reset ends the hold
// and fills the bucket, as a new one starts. It is safe for concurrent
// use.
type RateLimiter struct {
	s     *Store
	key   string
	rate  float64
	burst int
	sql   rateSQL
}

// rateSQL holds a RateLimiter's statements, rendered for its store.
type rateSQL struct{ acquire, release, hold, reset string }

// RateLimiter returns the global token bucket named key that admits rate
// job starts per second on average and up to burst at once. Limiters with
// the same key in any process share the bucket; give them the same rate
// and burst. A new bucket starts full.
func (s *Store) RateLimiter(key string, rate float64, burst int) (*RateLimiter, error) {
	switch {
	case key == "":
		return nil, fmt.Errorf("postgres: rate limiter: %w: empty key", storage.ErrInvalid)
	case !(rate > 0) || math.IsInf(rate, 0):
		return nil, fmt.Errorf("postgres: rate limiter %s: %w: rate %v, want a positive number", key, storage.ErrInvalid, rate)
	case burst < 1:
		return nil, fmt.Errorf("postgres: rate limiter %s: %w: burst %d, want at least 1", key, storage.ErrInvalid, burst)
	}
	return &RateLimiter{s: s, key: key, rate: rate, burst: burst, sql: rateSQL{
		acquire: s.n.render(acquireSQL),
		release: s.n.render(releaseSQL),
		hold:    s.n.render(holdSQL),
		reset:   s.n.render(resetSQL),
	}}, nil
}

// acquireSQL refills the bucket for the time since its last use and, unless
// it is held, takes up to $4 whole tokens. It returns how many it took,
// what is left and how many seconds the hold still lasts (0 when not
// held). A missing bucket is new: full and not held.
//
// $1 key, $2 rate per second, $3 burst, $4 most to take.
const acquireSQL = `INSERT INTO {buckets} AS b (name, tokens, updated_at, last_taken)
VALUES ($1, $3::float8 - LEAST($3, $4), clock_timestamp(), LEAST($3, $4))
ON CONFLICT (name) DO UPDATE SET (tokens, last_taken, updated_at) = (
	SELECT f.tokens - t.taken, t.taken, c.now
	FROM (SELECT clock_timestamp() AS now) c,
		LATERAL (SELECT LEAST($3::float8, b.tokens + EXTRACT(EPOCH FROM c.now - b.updated_at)::float8 * $2::float8) AS tokens) f,
		LATERAL (SELECT CASE WHEN b.held_until > c.now THEN 0
			ELSE LEAST(floor(f.tokens), $4::float8)::integer END AS taken) t)
RETURNING last_taken, tokens, COALESCE(GREATEST(EXTRACT(EPOCH FROM held_until - updated_at)::float8, 0), 0)`

// releaseSQL puts $2 tokens back, never above the burst $3.
const releaseSQL = `UPDATE {buckets} SET tokens = LEAST($3::float8, tokens + $2) WHERE name = $1`

// holdSQL holds the bucket until $3 unless it is held until later. A
// missing bucket is created full, as acquireSQL would.
//
// $1 key, $2 burst, $3 until.
const holdSQL = `INSERT INTO {buckets} AS b (name, tokens, updated_at, held_until)
VALUES ($1, $2, clock_timestamp(), $3)
ON CONFLICT (name) DO UPDATE SET held_until = GREATEST(b.held_until, EXCLUDED.held_until)`

// resetSQL ends the hold and fills the bucket to the burst $2. A missing
// bucket is already new.
const resetSQL = `UPDATE {buckets} SET tokens = $2, updated_at = clock_timestamp(), held_until = NULL WHERE name = $1`

// Acquire takes up to most tokens from the shared bucket. When it takes
// none, wait is how long until the next token, or until the hold ends if
// that is later.
func (l *RateLimiter) Acquire(ctx context.Context, _ time.Time, most int) (int, time.Duration, error) {
	if most < 1 {
		return 0, 0, nil
	}
	if err := l.s.check(); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, rateTimeout)
	defer cancel()
	var (
		taken        int
		tokens, held float64
	)
	if err := l.s.pool.QueryRow(ctx, l.sql.acquire, l.key, l.rate, l.burst, most).Scan(&taken, &tokens, &held); err != nil {
		return 0, 0, translate("rate limiter "+l.key+": acquire", err)
	}
	if taken > 0 {
		return taken, 0, nil
	}
	wait := max(seconds((1-tokens)/l.rate), seconds(held))
	return 0, max(wait, time.Millisecond), nil
}

// seconds converts s seconds to a duration, capped far beyond any wait
// that matters so that a hold until a distant date cannot overflow.
func seconds(s float64) time.Duration {
	return time.Duration(min(s*float64(time.Second), 1<<62))
}

// Release puts back n tokens that were taken but not used.
func (l *RateLimiter) Release(ctx context.Context, _ time.Time, n int) error {
	if n < 1 {
		return nil
	}
	return l.exec(ctx, "release", l.sql.release, l.key, n, l.burst)
}

// Done does nothing: a rate limit does not depend on when jobs end.
func (l *RateLimiter) Done(context.Context, time.Time) error { return nil }

// Hold takes no token from the shared bucket before until, in any process
// that shares it. until is compared with the database clock.
func (l *RateLimiter) Hold(ctx context.Context, until time.Time) error {
	return l.exec(ctx, "hold", l.sql.hold, l.key, l.burst, until)
}

// Reset ends the hold of the shared bucket and fills it to burst.
func (l *RateLimiter) Reset(ctx context.Context) error {
	return l.exec(ctx, "reset", l.sql.reset, l.key, l.burst)
}

// exec runs one of the limiter's statements that returns no rows.
func (l *RateLimiter) exec(ctx context.Context, op, sql string, args ...any) error {
	if err := l.s.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, rateTimeout)
	defer cancel()
	_, err := l.s.pool.Exec(ctx, sql, args...)
	return translate("rate limiter "+l.key+": "+op, err)
}
