package backendtest

import (
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// UpgradeClaim returns a claim of up to ten jobs of the queue and kind
// CheckUpgraded reads.
func UpgradeClaim() *storage.JobClaimParams {
	return &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 10, LeaseDuration: time.Minute}
}

// CheckUpgraded checks a store migrated from a schema before the
// operations, which held three jobs of kind k in queue q: pending, failed
// and completed, on attempts 0, 1 and 2, each with input {"n":1} and the
// error message "msg-" and its state. They read back through JobQuery in
// that order, JobRetry retries the failed one, and once q is paused
// UpgradeClaim claims none of them.
func CheckUpgraded(t *testing.T, s storage.Storage) {
	t.Helper()
	ctx := t.Context()
	page, err := s.JobQuery(ctx, &storage.JobQueryParams{Order: storage.OrderOldest})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Jobs) != 3 {
		t.Fatalf("%d jobs after the upgrade, want 3", len(page.Jobs))
	}
	for i, st := range []storage.State{storage.StatePending, storage.StateFailed, storage.StateCompleted} {
		if j := page.Jobs[i]; j.State != st || j.Attempt != i || j.ErrorMessage != "msg-"+string(st) || string(j.Input) != `{"n":1}` {
			t.Errorf("job %d after the upgrade: %+v", i+1, j)
		}
	}
	res, err := s.JobRetry(ctx, &storage.JobRetryParams{JobBatch: storage.JobBatch{All: true}})
	if err != nil || res.Changed != 1 {
		t.Errorf("retry after the upgrade: %+v, %v; want 1 job", res, err)
	}
	if err := s.QueuePause(ctx, &storage.QueuePauseParams{Queue: "q"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.JobClaim(ctx, UpgradeClaim()); err != nil || len(c.Jobs) != 0 {
		t.Errorf("claim from a paused queue: %v, %v", c, err)
	}
}
