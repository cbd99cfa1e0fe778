package storagetest

import (
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// testLastError states where a job's error lives: a retried job keeps the
// last attempt's ErrorMessage and ErrorCode while it waits and runs again;
// a job that then completes has none, whichever statement writes its
// round (alone, with others of the same output, or mixed with other
// outcomes). No other field keeps an earlier attempt's error.
func testLastError(t *testing.T, f factory) {
	// retried inserts n jobs, fails each attempt once with a retry, and
	// claims them again: running, with the last error on their rows.
	retried := func(x *fixture, n int) []*storage.Job {
		x.t.Helper()
		js := x.claimedJobs(n)
		for _, j := range js {
			x.finishOne(at(time.Second), storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeRetry, ErrorMessage: "flaky", ErrorCode: "error"}, true)
		}
		again := make([]*storage.Job, 0, n)
		for range n {
			again = append(again, x.claimOne(at(2*time.Second), "q", "k"))
		}
		for _, j := range again {
			if g := x.get(j.ID); g.ErrorMessage != "flaky" || g.ErrorCode != "error" {
				x.t.Fatalf("retried job %d: error %q (%q), want the last attempt's", j.ID, g.ErrorMessage, g.ErrorCode)
			}
		}
		return again
	}
	cleared := func(x *fixture, js ...*storage.Job) {
		x.t.Helper()
		for _, j := range js {
			if g := x.get(j.ID); g.State != storage.StateCompleted || g.ErrorMessage != "" || g.ErrorCode != "" {
				x.t.Errorf("job %d completed after a retry: state %s, error %q (%q), want completed without error", j.ID, g.State, g.ErrorMessage, g.ErrorCode)
			}
		}
	}
	now := at(3 * time.Second)

	f.run(t, "CompleteAlone", func(t *testing.T, x *fixture) {
		js := retried(x, 1)
		x.finishOne(now, storage.JobFinish{ID: js[0].ID, LeaseToken: js[0].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte("1")}, true)
		cleared(x, js...)
	})

	f.run(t, "CompleteRound", func(t *testing.T, x *fixture) {
		js := retried(x, 4)
		x.finish(now,
			storage.JobFinish{ID: js[0].ID, LeaseToken: js[0].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte("1")},
			storage.JobFinish{ID: js[1].ID, LeaseToken: js[1].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte("2")})
		x.finish(now,
			storage.JobFinish{ID: js[2].ID, LeaseToken: js[2].LeaseToken, Outcome: storage.OutcomeComplete},
			storage.JobFinish{ID: js[3].ID, LeaseToken: js[3].LeaseToken, Outcome: storage.OutcomeComplete})
		cleared(x, js...)
	})

	f.run(t, "CompleteMixed", func(t *testing.T, x *fixture) {
		js := retried(x, 2)
		x.finish(now,
			storage.JobFinish{ID: js[0].ID, LeaseToken: js[0].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte("1")},
			storage.JobFinish{ID: js[1].ID, LeaseToken: js[1].LeaseToken, Outcome: storage.OutcomeFail, ErrorMessage: "boom", ErrorCode: "permanent"})
		cleared(x, js[0])
		if g := x.get(js[1].ID); g.ErrorMessage != "boom" || g.ErrorCode != "permanent" {
			t.Errorf("failed job: error %q (%q), want its own", g.ErrorMessage, g.ErrorCode)
		}
	})
}
