package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// rateTimeout bounds each database round trip of a RateLimiter, whose
// interface has no context.
const rateTimeout = 5 * time.Second

// RateLimiter is a token bucket whose state lives in the database, so every
// process that uses the same key shares one rate: a global limit per queue,
// per API or per tenant. It implements limit.Limiter; pass it as a
// runtime.QueueConfig's Limiter. Time comes from the database clock; the
// now arguments of the interface are ignored. Each Acquire and Release is
// one statement; Done does nothing (a rate does not depend on how long
// jobs run). It is safe for concurrent use.
type RateLimiter struct {
	s     *Store
	key   string
	rate  float64
	burst int
	sql   string
}

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
	return &RateLimiter{s: s, key: key, rate: rate, burst: burst, sql: s.n.render(acquireSQL)}, nil
}

// acquireSQL refills the bucket for the time since its last use, takes up
// to $4 whole tokens and returns how many it took and what is left.
//
// $1 key, $2 rate per second, $3 burst, $4 most to take.
const acquireSQL = `INSERT INTO {buckets} AS b (name, tokens, updated_at, last_taken)
VALUES ($1, $3::float8 - LEAST($3, $4), clock_timestamp(), LEAST($3, $4))
ON CONFLICT (name) DO UPDATE SET
	tokens = LEAST($3::float8, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at)::float8 * $2::float8)
		- LEAST(floor(LEAST($3::float8, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at)::float8 * $2::float8)), $4::float8),
	last_taken = LEAST(floor(LEAST($3::float8, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at)::float8 * $2::float8)), $4::float8)::integer,
	updated_at = clock_timestamp()
RETURNING last_taken, tokens`

// Acquire takes up to most tokens from the shared bucket. When it takes
// none, wait is how long until the next token.
func (l *RateLimiter) Acquire(_ time.Time, most int) (int, time.Duration, error) {
	if most < 1 {
		return 0, 0, nil
	}
	if err := l.s.check(); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), rateTimeout)
	defer cancel()
	var (
		taken  int
		tokens float64
	)
	if err := l.s.pool.QueryRow(ctx, l.sql, l.key, l.rate, l.burst, most).Scan(&taken, &tokens); err != nil {
		return 0, 0, translate("rate limiter "+l.key+": acquire", err)
	}
	if taken > 0 {
		return taken, 0, nil
	}
	wait := time.Duration((1 - tokens) / l.rate * float64(time.Second))
	return 0, max(wait, time.Millisecond), nil
}

// Release puts back n tokens that were taken but not used.
func (l *RateLimiter) Release(_ time.Time, n int) error {
	if n < 1 {
		return nil
	}
	if err := l.s.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), rateTimeout)
	defer cancel()
	_, err := l.s.pool.Exec(ctx, "UPDATE "+l.s.n.buckets+" SET tokens = LEAST($2::float8, tokens + $3) WHERE name = $1",
		l.key, l.burst, n)
	return translate("rate limiter "+l.key+": release", err)
}

// Done does nothing: a rate limit does not depend on when jobs end.
func (l *RateLimiter) Done(time.Time) error { return nil }
