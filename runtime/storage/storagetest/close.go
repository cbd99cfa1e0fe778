package storagetest

import (
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
		ctx, s := x.ctx, x.s
		calls := []struct {
			name string
			call func() error
		}{
			{"JobInsert", func() error { _, err := s.JobInsert(ctx, job("q", "k")); return err }},
			{"JobInsertMany", func() error {
				_, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: []*storage.JobInsertParams{job("q", "k")}, Now: base})
				return err
			}},
			{"JobClaim", func() error { _, err := s.JobClaim(ctx, claimParams(base, 1, "q", "k")); return err }},
			{"JobHeartbeat", func() error {
				_, err := s.JobHeartbeat(ctx, &storage.JobHeartbeatParams{Leases: []storage.Lease{{ID: j.ID, Token: 1}}, LeaseDuration: lease, Now: base})
				return err
			}},
			{"JobFinish", func() error {
				_, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: []storage.JobFinish{{ID: j.ID, LeaseToken: 1, Outcome: storage.OutcomeComplete}}, Now: base})
				return err
			}},
			{"JobAbort", func() error { _, err := s.JobAbort(ctx, &storage.JobAbortParams{ID: j.ID, Now: base}); return err }},
			{"JobGet", func() error { _, err := s.JobGet(ctx, &storage.JobGetParams{ID: j.ID}); return err }},
			{"JobList", func() error { _, err := s.JobList(ctx, &storage.JobListParams{}); return err }},
			{"JobDeleteFinished", func() error {
				_, err := s.JobDeleteFinished(ctx, &storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: at(time.Hour)})
				return err
			}},
		}
		for _, c := range calls {
			if err := c.call(); !errors.Is(err, storage.ErrClosed) {
				t.Errorf("%s after Close: error %v, want one matching storage.ErrClosed", c.name, err)
			}
		}
		if err := x.s.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
			t.Errorf("second Close: %v, want nil or an error matching storage.ErrClosed", err)
		}
	})
}
