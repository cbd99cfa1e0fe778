package sqlite

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/migration"
)

// TestUpgradeAddsMetadata: a database at the schema version before job
// metadata, holding jobs, keeps them when opened by this version, which
// migrates it: they read with no metadata, they are claimed as before, and
// new jobs store metadata beside them.
func TestUpgradeAddsMetadata(t *testing.T) {
	t.Parallel()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migration.Migration) bool { return strings.HasSuffix(m.Name, "_job_metadata.sql") })
	if i < 1 {
		t.Fatal("no metadata migration after the first")
	}
	before := ms[:i]
	now := time.Now().UnixMicro()
	path := databaseAt(t, before, func(exec func(q string, args ...any)) {
		for i, st := range []string{"pending", "completed"} {
			exec(`INSERT INTO jobgen_jobs (kind, queue, input, state, max_attempts, attempt, run_after, unique_key, created_at, finished_at)
				VALUES ('k', 'q', '{"n":1}', ?1, 3, ?2, ?3, 'key-' || ?2, ?3, CASE WHEN ?1 <> 'pending' THEN ?3 END)`, st, i, now)
		}
	})

	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("open a database at version %d: %v", len(before), err)
	}
	defer s.Close()
	ctx := t.Context()
	jobs, err := s.JobList(ctx, &storage.JobListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d jobs after the upgrade, want 2", len(jobs))
	}
	for i, st := range []storage.State{storage.StatePending, storage.StateCompleted} {
		if j := jobs[i]; j.State != st || j.Attempt != i || string(j.Input) != `{"n":1}` || j.Metadata != nil {
			t.Errorf("job %d after the upgrade: %+v, want state %s, attempt %d, its input and no metadata", i+1, j, st, i)
		}
	}
	c, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 10, LeaseDuration: time.Minute})
	if err != nil || len(c.Jobs) != 1 || c.Jobs[0].Metadata != nil {
		t.Fatalf("claim after the upgrade: %v, %v; want the pending job, with no metadata", c, err)
	}
	md := map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	res, err := s.JobInsert(ctx, &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	if j, err := s.JobGet(ctx, &storage.JobGetParams{ID: res.Job.ID}); err != nil || !maps.Equal(j.Metadata, md) {
		t.Errorf("job inserted after the upgrade: %+v, %v; want metadata %v", j, err, md)
	}
}
