package postgres

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// TestUpgradeAddsMetadata: a schema at the version before job metadata,
// holding jobs, keeps them when Migrate brings it to this version: they
// read with no metadata, they are claimed and finished as before, and new
// jobs store metadata beside them.
func TestUpgradeAddsMetadata(t *testing.T) {
	t.Parallel()
	i := slices.IndexFunc(migrations, func(m Migration) bool { return strings.HasSuffix(m.Name, "_job_metadata.sql") })
	if i < 1 {
		t.Fatal("no metadata migration after the first")
	}
	before := migrations[:i]
	s, exec := storeAt(t, before)
	ctx := t.Context()
	for i, st := range []string{"pending", "running", "completed"} {
		exec(s.n.render(`INSERT INTO {jobs} (kind, queue, state, max_attempts, attempt, run_after, input, unique_key,
			lease_token, lease_expires_at, created_at, finished_at)
			VALUES ('k', 'q', $1::text, 3, $2, now(), '{"n":1}', 'key-' || $2::int,
				CASE WHEN $1::text = 'running' THEN 7 ELSE 0 END, CASE WHEN $1::text = 'running' THEN now() END,
				now(), CASE WHEN $1::text = 'completed' THEN now() END)`), st, i)
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate from version %d: %v", before[len(before)-1].Version, err)
	}
	jobs, err := s.JobList(ctx, &storage.JobListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 3 {
		t.Fatalf("%d jobs after the upgrade, want 3", len(jobs))
	}
	for i, st := range []storage.State{storage.StatePending, storage.StateRunning, storage.StateCompleted} {
		if j := jobs[i]; j.State != st || j.Attempt != i || string(j.Input) != `{"n":1}` || j.Metadata != nil {
			t.Errorf("job %d after the upgrade: %+v, want state %s, attempt %d, its input and no metadata", i+1, j, st, i)
		}
	}
	// The pending job and the running one, whose lease has expired, are
	// claimed with no metadata.
	claim := &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 10, LeaseDuration: time.Minute}
	c, err := s.JobClaim(ctx, claim)
	if err != nil || len(c.Jobs) != 2 {
		t.Fatalf("claim after the upgrade: %v, %v; want the pending and the expired job", c, err)
	}
	for _, j := range c.Jobs {
		if j.Metadata != nil {
			t.Errorf("claimed job %d has metadata %v, want none", j.ID, j.Metadata)
		}
	}
	md := map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	p := insertParams("q", "k")
	p.Metadata = md
	if j := mustInsert(t, s, p); !maps.Equal(j.Metadata, md) {
		t.Errorf("job inserted after the upgrade has metadata %v, want %v", j.Metadata, md)
	}
}
