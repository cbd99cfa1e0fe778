package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func testClose(t *testing.T, f factory) {
	f.run(t, "CallsFail", func(t *testing.T, x *fixture) {
		// After Close every call fails with storage.ErrClosed; the
		// arguments are valid, so nothing else can be the reason.
		j := x.insert(job("q", "k"))
		if err := x.s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for _, c := range calls(x.ctx, x.s, j.ID) {
			if err := c.call(); !errors.Is(err, storage.ErrClosed) {
				t.Errorf("%s after Close: error %v, want one matching storage.ErrClosed", c.name, err)
			}
		}
		if err := x.s.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
			t.Errorf("second Close: %v, want nil or an error matching storage.ErrClosed", err)
		}
	})
}

// call is one storage call with valid arguments, named for messages.
type call struct {
	name string
	call func() error
}

// calls returns one call of every Storage method on s, each with valid
// arguments naming job id, so a test can check how all of them fail.
func calls(ctx context.Context, s storage.Storage, id int64) []call {
	return []call{
		{"JobInsert", func() error { _, err := s.JobInsert(ctx, job("q", "k")); return err }},
		{"JobInsertMany", func() error {
			_, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: []*storage.JobInsertParams{job("q", "k")}, Now: base})
			return err
		}},
		{"JobClaim", func() error { _, err := s.JobClaim(ctx, claimParams(base, 1, "q", "k")); return err }},
		{"JobHeartbeat", func() error {
			_, err := s.JobHeartbeat(ctx, &storage.JobHeartbeatParams{Leases: []storage.Lease{{ID: id, Token: 1}}, LeaseDuration: lease, Now: base})
			return err
		}},
		{"JobFinish", func() error {
			_, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: []storage.JobFinish{{ID: id, LeaseToken: 1, Outcome: storage.OutcomeComplete}}, Now: base})
			return err
		}},
		{"JobAbort", func() error { _, err := s.JobAbort(ctx, &storage.JobAbortParams{ID: id, Now: base}); return err }},
		{"JobGet", func() error { _, err := s.JobGet(ctx, &storage.JobGetParams{ID: id}); return err }},
		{"JobList", func() error { _, err := s.JobList(ctx, &storage.JobListParams{}); return err }},
		{"JobDeleteFinished", func() error {
			_, err := s.JobDeleteFinished(ctx, &storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: at(time.Hour)})
			return err
		}},
	}
}
