package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/backendtest"
	"github.com/jobgen/jobgen/runtime/storage/internal/migration"
)

// databaseAt writes a database file at the schema version of ms, the first
// migrations, as an older jobgen left it: their tables made and the version
// recorded, then fill's rows written through exec. It returns its path.
func databaseAt(t *testing.T, ms []migration.Migration, fill func(exec func(q string, args ...any))) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.db")
	db, err := sql.Open("sqlite3", "file:"+escapePath(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE TABLE jobgen_schema (version INTEGER NOT NULL)`)
	exec(`INSERT INTO jobgen_schema (version) VALUES (?)`, len(ms))
	for _, m := range ms {
		exec(m.SQL)
	}
	fill(exec)
	return path
}

// TestUpgradeFromVersion1: a database made by schema version 1 (before the
// operations) keeps its jobs when opened by this version, which migrates
// it, and the new queries, operations and pause work on it.
func TestUpgradeFromVersion1(t *testing.T) {
	t.Parallel()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMicro()
	path := databaseAt(t, ms[:1], func(exec func(q string, args ...any)) {
		for i, st := range []string{"pending", "failed", "completed"} {
			exec(`INSERT INTO jobgen_jobs (kind, queue, input, state, max_attempts, attempt, run_after, error_message, created_at, finished_at)
				VALUES ('k', 'q', '{"n":1}', ?1, 3, ?2, ?3, ?4, ?3, CASE WHEN ?1 <> 'pending' THEN ?3 END)`, st, i, now, "msg-"+st)
		}
	})

	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("open a version 1 database: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	var version int
	if err := s.read.QueryRowContext(ctx, `SELECT version FROM jobgen_schema`).Scan(&version); err != nil || version != SchemaVersion() {
		t.Fatalf("schema version %d (%v), want %d", version, err, SchemaVersion())
	}
	backendtest.CheckUpgraded(t, s)
	claim := backendtest.UpgradeClaim()
	// The pause is stored: it holds after a restart.
	s.Close()
	s2, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if c, err := s2.JobClaim(ctx, claim); err != nil || len(c.Jobs) != 0 {
		t.Errorf("claim from a paused queue after a restart: %v, %v", c, err)
	}
	if err := s2.QueueResume(ctx, &storage.QueueResumeParams{Queue: "q"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s2.JobClaim(ctx, claim); err != nil || len(c.Jobs) != 2 {
		t.Errorf("claim after resume: %v, %v; want the 2 pending jobs", c, err)
	}
}
