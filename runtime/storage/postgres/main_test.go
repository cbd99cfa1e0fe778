package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

// The tests read their server from these variables.
const (
	// envDSN holds the DSN of a PostgreSQL server the tests may create
	// schemas in, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
	envDSN = "JOBGEN_TEST_POSTGRES"
	// envRequired=1 turns a missing or unreachable server into a failure
	// instead of a skip (CI).
	envRequired = "JOBGEN_TEST_POSTGRES_REQUIRED"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		os.Exit(runRole(role))
	}
	skipExamplesWithoutServer()
	goleak.VerifyTestMain(mainRunner{m})
}

// skipExamplesWithoutServer leaves the examples out when no server is
// configured and none is required, as the tests skip then: an Example
// cannot skip itself.
func skipExamplesWithoutServer() {
	if os.Getenv(envDSN) != "" || os.Getenv(envRequired) == "1" {
		return
	}
	flag.Parse()
	skip := "^Example"
	if prev := flag.Lookup("test.skip").Value.String(); prev != "" {
		skip = prev + "|" + skip
	}
	if err := flag.Set("test.skip", skip); err != nil {
		panic(err)
	}
	fmt.Fprintf(os.Stderr, "postgres: %s is not set: the examples are left out, as the tests skip\n", envDSN)
}

// mainRunner closes the shared pool after the tests, before goleak looks
// for leaked goroutines.
type mainRunner struct{ m *testing.M }

func (r mainRunner) Run() int {
	code := r.m.Run()
	shared.mu.Lock()
	if shared.pool != nil {
		shared.pool.Close()
	}
	shared.mu.Unlock()
	return code
}

// shared is the one pool of the test binary; every test store uses it with
// a schema of its own, so parallel tests stay within max_connections.
var shared struct {
	mu   sync.Mutex
	pool *pgxpool.Pool
	err  error
	done bool
}

// testDSN returns the server's DSN, or skips (fails when required).
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		if os.Getenv(envRequired) == "1" {
			t.Fatalf("%s is not set, and %s=1 requires a PostgreSQL server", envDSN, envRequired)
		}
		t.Skipf("set %s to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests", envDSN)
	}
	return dsn
}

// unreachable skips or fails the test when the server cannot be reached.
func unreachable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(envRequired) == "1" {
		t.Fatalf("PostgreSQL at %s is unreachable: %v", envDSN, err)
	}
	t.Skipf("PostgreSQL at %s is unreachable: %v", envDSN, err)
}

// sharedPool returns the test binary's pool.
func sharedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := testDSN(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.done {
		shared.done = true
		shared.pool, shared.err = openPool(dsn, 16)
	}
	if shared.err != nil {
		unreachable(t, shared.err)
	}
	return shared.pool
}

// openPool connects a pool of at most maxConns connections and pings it.
func openPool(dsn string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = maxConns
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// randomSchema returns a fresh schema name for one test.
func randomSchema() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "jobgen_test_" + hex.EncodeToString(b)
}

// newTestStore returns a migrated store in a fresh schema of its own on the
// shared pool; the schema is dropped when the test ends.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	return newTestStoreOn(t, sharedPool(t))
}

func newTestStoreOn(t testing.TB, pool *pgxpool.Pool) *Store {
	t.Helper()
	s := newUnmigratedStore(t, pool)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// newUnmigratedStore returns a store in a fresh schema of its own on pool,
// with no tables yet; the schema is dropped when the test ends.
func newUnmigratedStore(t testing.TB, pool *pgxpool.Pool) *Store {
	t.Helper()
	schema := randomSchema()
	s, err := New(pool, &Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		for range 5 { // killed subprocesses may still hold locks for a moment
			if _, err = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err == nil || !retryable(err) {
				break
			}
		}
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return s
}
