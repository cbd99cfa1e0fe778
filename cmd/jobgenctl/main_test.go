package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/postgres"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The PostgreSQL tests read their server from these variables.
const (
	// envPostgres holds the DSN of a server the tests may create schemas
	// in, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
	envPostgres = "JOBGEN_TEST_POSTGRES"
	// envRequired=1 turns a missing or unreachable server into a failure
	// instead of a skip (CI).
	envRequired = "JOBGEN_TEST_POSTGRES_REQUIRED"
)

// bin is the jobgenctl binary TestMain builds.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jobgenctl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "jobgenctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build jobgenctl: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(mainRunner{m, dir})
}

// mainRunner closes the shared pool and removes the binary after the
// tests, before goleak looks for leaked goroutines.
type mainRunner struct {
	m   *testing.M
	dir string
}

func (r mainRunner) Run() int {
	code := r.m.Run()
	shared.mu.Lock()
	if shared.pool != nil {
		shared.pool.Close()
	}
	shared.mu.Unlock()
	os.RemoveAll(r.dir)
	return code
}

// result is what one run of the binary gave.
type result struct {
	stdout, stderr string
	code           int
}

// ctl runs the binary with args, and env added to an environment without
// JOBGEN_DSN.
func ctl(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return ctlBin(t, bin, env, args...)
}

func ctlBin(t *testing.T, bin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envDSN+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run jobgenctl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// backend is a database for one test and how to reach it.
type backend struct {
	name string
	// conn are the flags that name the database.
	conn []string
	// open opens a store over the database once it is migrated.
	open func(t *testing.T) storage.Storage
	// setVersion records schema version v in the migrated database.
	setVersion func(t *testing.T, v int)
}

// run runs jobgenctl with args and the backend's connection flags.
func (b *backend) run(t *testing.T, args ...string) result {
	t.Helper()
	return ctl(t, nil, append(args, b.conn...)...)
}

// ok runs args, requires success and returns stdout.
func (b *backend) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := b.run(t, args...)
	if r.code != 0 {
		t.Fatalf("jobgenctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs args and requires exit status code with one line on stderr
// that contains want, and nothing on stdout.
func (b *backend) fails(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	requireFailure(t, b.run(t, args...), code, want, args)
}

func requireFailure(t *testing.T, r result, code int, want string, args []string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 ||
		!strings.HasPrefix(r.stderr, "jobgenctl: ") || r.stdout != "" {
		t.Fatalf("jobgenctl %s: exit %d, want %d and one line with %q\nstdout: %q\nstderr: %q",
			strings.Join(args, " "), r.code, code, want, r.stdout, r.stderr)
	}
}

// okJSON runs args with --json and decodes stdout into v.
func (b *backend) okJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := b.ok(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("jobgenctl %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newSQLite returns a backend on a file in a temporary directory that does
// not exist yet.
func newSQLite(t *testing.T) *backend {
	path := filepath.Join(t.TempDir(), "jobs.db")
	return &backend{
		name: "sqlite",
		conn: []string{"--dsn", path},
		open: func(t *testing.T) storage.Storage {
			s, err := sqlite.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		setVersion: func(t *testing.T, v int) {
			db, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE jobgen_schema SET version = ?`, v); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// shared is the pool the PostgreSQL tests drop their schemas through.
var shared struct {
	mu   sync.Mutex
	pool *pgxpool.Pool
	err  error
}

// newPostgres returns a backend on a fresh schema of the test server,
// dropped when the test ends; it skips (or fails, when required) without
// a server.
func newPostgres(t *testing.T) *backend {
	t.Helper()
	dsn := os.Getenv(envPostgres)
	if dsn == "" {
		if os.Getenv(envRequired) == "1" {
			t.Fatalf("%s is not set, and %s=1 requires a PostgreSQL server", envPostgres, envRequired)
		}
		t.Skipf("set %s to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests", envPostgres)
	}
	shared.mu.Lock()
	if shared.pool == nil && shared.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		shared.pool, shared.err = pgxpool.New(ctx, dsn)
		if shared.err == nil {
			if shared.err = shared.pool.Ping(ctx); shared.err != nil {
				shared.pool.Close()
				shared.pool = nil
			}
		}
		cancel()
	}
	pool, err := shared.pool, shared.err
	shared.mu.Unlock()
	if err != nil {
		if os.Getenv(envRequired) == "1" {
			t.Fatalf("PostgreSQL at %s is unreachable: %v", envPostgres, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v", envPostgres, err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "jobgenctl_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return &backend{
		name: "postgres",
		conn: []string{"--dsn", dsn, "--schema", schema},
		open: func(t *testing.T) storage.Storage {
			s, err := postgres.Connect(t.Context(), dsn, &postgres.Options{Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		setVersion: func(t *testing.T, v int) {
			table := pgx.Identifier{schema, "jobgen_schema_version"}.Sanitize()
			if _, err := pool.Exec(t.Context(), "INSERT INTO "+table+" (version, name) VALUES ($1, 'test')", v); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// forBackends runs test against SQLite and PostgreSQL, in parallel.
func forBackends(t *testing.T, test func(t *testing.T, b *backend)) {
	t.Helper()
	for _, bk := range []struct {
		name string
		new  func(*testing.T) *backend
	}{{"SQLite", newSQLite}, {"PostgreSQL", newPostgres}} {
		t.Run(bk.name, func(t *testing.T) {
			t.Parallel()
			test(t, bk.new(t))
		})
	}
}

// t0 is the time the fixture starts at; the stores take every time from
// the test, so the output is the same on every run.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// created is the time job id of the fixture was inserted.
func created(id int64) time.Time { return t0.Add(time.Duration(id) * time.Minute) }

// fixture are the jobs seed inserts, with ids 1 to 10 in this order. The
// jobs that are claimed come before the pending jobs of their queue and
// kind, so each claim takes the job just inserted.
var fixture = []struct {
	kind, queue string
	state       storage.State
	key         string
	output      string
	err         string
}{
	{"email", "default", storage.StateCompleted, "", `{"id":"m-1"}`, ""},
	{"email", "default", storage.StateFailed, "", "", "smtp: connection refused"},
	{"resize", "images", storage.StateFailed, "", "", "decode: unexpected EOF"},
	{"resize", "images", storage.StateCompleted, "", `{"width":640}`, ""},
	{"email", "default", storage.StateRunning, "", "", ""},
	{"report", "default", storage.StateAborted, "", "", ""},
	{"email", "default", storage.StatePending, "user-7", "", ""},
	{"email", "default", storage.StatePending, "", "", ""},
	{"resize", "images", storage.StatePending, "", "", ""},
	{"report", "reports", storage.StatePending, "", "", ""},
}

// seed migrates the database and inserts the fixture: job i is created at
// created(i), claimed a second later and finished a second after that.
func seed(t *testing.T, b *backend) {
	t.Helper()
	b.ok(t, "migrate", "up")
	s := b.open(t)
	defer s.Close()
	ctx := t.Context()
	for i, f := range fixture {
		id := int64(i + 1)
		at := created(id)
		res, err := s.JobInsert(ctx, &storage.JobInsertParams{
			Kind: f.kind, Queue: f.queue, MaxAttempts: 3, UniqueKey: f.key, Now: at,
			Input: fmt.Appendf(nil, `{"n":%d,"to":"user-%d@example.com"}`, id, id),
		})
		if err != nil || res.Job.ID != id {
			t.Fatalf("insert job %d: %+v, %v", id, res, err)
		}
		switch f.state {
		case storage.StatePending:
			continue
		case storage.StateAborted:
			if _, err := s.JobAbort(ctx, &storage.JobAbortParams{ID: id, Now: at.Add(2 * time.Second)}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		claim, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: f.queue, Kinds: []string{f.kind}, Limit: 1, LeaseDuration: time.Hour, Now: at.Add(time.Second)})
		if err != nil || len(claim.Jobs) != 1 || claim.Jobs[0].ID != id {
			t.Fatalf("claim job %d: %+v, %v", id, claim, err)
		}
		fin := storage.JobFinish{ID: id, LeaseToken: claim.Jobs[0].LeaseToken}
		switch f.state {
		case storage.StateRunning:
			continue
		case storage.StateCompleted:
			fin.Outcome, fin.Output = storage.OutcomeComplete, []byte(f.output)
		case storage.StateFailed:
			fin.Outcome, fin.ErrorMessage, fin.ErrorCode = storage.OutcomeFail, f.err, "error"
		}
		r, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: []storage.JobFinish{fin}, Now: at.Add(2 * time.Second)})
		if err != nil || !r.Applied[0] {
			t.Fatalf("finish job %d: %+v, %v", id, r, err)
		}
	}
}

// listPage is jobs list --json.
type listPage struct {
	Jobs []jobJSON `json:"jobs"`
	Next string    `json:"next"`
}

// ids lists the ids of jobs list --json with args.
func (b *backend) ids(t *testing.T, args ...string) []int64 {
	t.Helper()
	var page listPage
	b.okJSON(t, &page, append([]string{"jobs", "list"}, args...)...)
	ids := []int64{}
	for _, j := range page.Jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

// states returns the state of every job, by id.
func (b *backend) states(t *testing.T) map[int64]storage.State {
	t.Helper()
	var page listPage
	b.okJSON(t, &page, "jobs", "list", "--limit", "1000")
	out := make(map[int64]storage.State)
	for _, j := range page.Jobs {
		out[j.ID] = j.State
	}
	return out
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}
