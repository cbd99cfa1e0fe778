package postgres_test

import (
	"github.com/jobgen/jobgen/runtime/limit"
	"github.com/jobgen/jobgen/runtime/storage/postgres"
)

// The RateLimiter is a limit.Limiter; the package itself does not import
// limit.
var _ limit.Limiter = (*postgres.RateLimiter)(nil)
