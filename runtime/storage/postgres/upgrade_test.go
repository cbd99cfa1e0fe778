package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/backendtest"
)

// storeAt returns a store in a fresh schema of its own on the shared pool,
// at the version of ms as an older jobgen left it: their tables made and
// their versions recorded. exec runs a statement on the pool.
func storeAt(t *testing.T, ms []Migration) (s *Store, exec func(sql string, args ...any)) {
	t.Helper()
	s = newUnmigratedStore(t, sharedPool(t))
	exec = func(sql string, args ...any) {
		t.Helper()
		if _, err := s.pool.Exec(t.Context(), sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(s.n.render(versionTableSQL))
	for _, m := range ms {
		exec(s.n.render(m.SQL))
		exec("INSERT INTO "+s.n.version+" (version, name) VALUES ($1, $2)", m.Version, m.Name)
	}
	return s, exec
}

// TestUpgradeFromVersion3: a schema made by version 3 (before the
// operations) keeps its jobs when Migrate brings it to this version, and
// the new queries, operations and pause work on it.
func TestUpgradeFromVersion3(t *testing.T) {
	t.Parallel()
	s, exec := storeAt(t, migrations[:3])
	ctx := t.Context()
	for i, st := range []string{"pending", "failed", "completed"} {
		exec(s.n.render(`INSERT INTO {jobs} (kind, queue, state, max_attempts, attempt, run_after, input, error_message, created_at, finished_at)
			VALUES ('k', 'q', $1::text, 3, $2, now(), '{"n":1}', $3, now(), CASE WHEN $1::text <> 'pending' THEN now() END)`), st, i, "msg-"+st)
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate from version 3: %v", err)
	}
	var version int
	if err := s.pool.QueryRow(ctx, "SELECT max(version) FROM "+s.n.version).Scan(&version); err != nil || version != SchemaVersion {
		t.Fatalf("schema version %d (%v), want %d", version, err, SchemaVersion)
	}
	backendtest.CheckUpgraded(t, s)
	claim := backendtest.UpgradeClaim()
	// The pause is stored: a new store over the same schema sees it.
	s2, err := New(s.pool, &Options{Schema: s.n.schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if c, err := s2.JobClaim(ctx, claim); err != nil || len(c.Jobs) != 0 {
		t.Errorf("claim from a paused queue by another store: %v, %v", c, err)
	}
	if err := s2.QueueResume(ctx, &storage.QueueResumeParams{Queue: "q"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.JobClaim(ctx, claim); err != nil || len(c.Jobs) != 2 {
		t.Errorf("claim after resume: %v, %v; want the 2 pending jobs", c, err)
	}
}

// TestResumeNotifies: resuming a paused queue notifies it as inserted, so
// the servers in every process that work it claim at once.
func TestResumeNotifies(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := s.QueuePause(ctx, &storage.QueuePauseParams{Queue: "q"}); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.QueueResume(ctx, &storage.QueueResumeParams{Queue: "q"}); err != nil {
		t.Fatal(err)
	}
	for n := range ch {
		if n.Kind == storage.NotifyInserted && n.Queue == "q" {
			return
		}
	}
	t.Fatal("no notification of the resumed queue")
}
