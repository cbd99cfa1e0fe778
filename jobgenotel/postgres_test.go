package jobgenotel_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/jobgenotel"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/postgres"
)

// The PostgreSQL test reads its server from the variables the postgres
// package's tests read: a DSN of a server it may create schemas in, and
// =1 to fail instead of skipping without one.
const (
	envDSN      = "JOBGEN_TEST_POSTGRES"
	envRequired = "JOBGEN_TEST_POSTGRES_REQUIRED"
)

// postgresStores returns two stores over one fresh schema, as two
// processes would open them, or skips (fails when required) without a
// server. The schema is dropped when the test ends.
func postgresStores(t *testing.T) (a, b *postgres.Store) {
	t.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		if os.Getenv(envRequired) == "1" {
			t.Fatalf("%s is not set, and %s=1 requires a PostgreSQL server", envDSN, envRequired)
		}
		t.Skipf("set %s to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL test", envDSN)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv(envRequired) == "1" {
			t.Fatalf("PostgreSQL at %s is unreachable: %v", envDSN, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v", envDSN, err)
	}
	suffix := make([]byte, 8)
	rand.Read(suffix)
	schema := "jobgenotel_test_" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		conn.Close(ctx)
	})
	open := func(migrate bool) *postgres.Store {
		s, err := postgres.Connect(ctx, dsn, &postgres.Options{Schema: schema, AutoMigrate: migrate})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return open(true), open(false)
}

// TestTracePostgres submits from a detached client and runs on a server
// of another store, each with a tracer of its own, as two processes: the
// run span's parent is the submit span, through the job's stored metadata.
func TestTracePostgres(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	submitStore, workStore := postgresStores(t)

	clientTP, clientSpans := newTracing(t)
	var ccfg runtime.ClientConfig
	jobgenotel.InstrumentClient(&ccfg, jobgenotel.Options{TracerProvider: clientTP})
	c, err := runtime.NewClient(submitStore, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	serverTP, serverSpans := newTracing(t)
	var scfg runtime.Config
	jobgenotel.Instrument(&scfg, jobgenotel.Options{TracerProvider: serverTP})
	startServer(t, workStore, scfg)

	h := submit(t, ctx, c, modeRetry, nil)
	if _, err := h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	publish := spansOf(t, clientSpans, h.ID).publish
	runs := spansOf(t, serverSpans, h.ID).runs
	if publish == nil || len(runs) != 2 {
		t.Fatalf("submit span %v, %d run spans; want one and two", publish, len(runs))
	}
	for i, outcome := range []string{"retried", "completed"} {
		checkRun(t, runs[i], publish, h.ID, i+1, outcome)
		if !runs[i].Parent().IsRemote() {
			t.Errorf("run span %d: parent not remote", i+1)
		}
	}
}
