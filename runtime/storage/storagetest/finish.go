package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// finished returns j after it finished at now in state st: lease cleared,
// FinishedAt set.
func finished(j *storage.Job, st storage.State, now time.Time) *storage.Job {
	w := clone(j)
	w.State = st
	w.LeaseToken = 0
	w.LeaseExpiresAt = time.Time{}
	w.FinishedAt = now
	return w
}

func testFinish(t *testing.T, f factory) {
	f.run(t, "Complete", func(t *testing.T, x *fixture) {
		j := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		now := at(5 * time.Second)
		x.finishOne(now, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte(`{"ok":true}`)}, true)
		want := finished(j, storage.StateCompleted, now)
		want.Output = []byte(`{"ok":true}`)
		x.want(want)
	})

	f.run(t, "Fail", func(t *testing.T, x *fixture) {
		j := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		now := at(5 * time.Second)
		x.finishOne(now, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeFail, ErrorMessage: "boom", ErrorCode: "permanent"}, true)
		want := finished(j, storage.StateFailed, now)
		want.ErrorMessage, want.ErrorCode = "boom", "permanent"
		x.want(want)
	})

	f.run(t, "Abort", func(t *testing.T, x *fixture) {
		j := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		now := at(5 * time.Second)
		x.finishOne(now, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeAbort, ErrorMessage: "stop", ErrorCode: "aborted"}, true)
		want := finished(j, storage.StateAborted, now)
		want.ErrorMessage, want.ErrorCode = "stop", "aborted"
		x.want(want)
	})

	f.run(t, "Retry", func(t *testing.T, x *fixture) {
		j := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		now := at(5 * time.Second)
		x.finishOne(now, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeRetry, ErrorMessage: "flaky", ErrorCode: "error", RetryDelay: 30 * time.Second}, true)
		want := clone(j)
		want.State = storage.StatePending
		want.RunAfter = now.Add(30 * time.Second)
		want.LeaseToken = 0
		want.LeaseExpiresAt = time.Time{}
		want.ErrorMessage, want.ErrorCode = "flaky", "error"
		x.want(want)

		res := x.claimNone(at(6*time.Second), "q", "k")
		checkTime(t, "NextRunAfter of a retried job", res.NextRunAfter, now.Add(30*time.Second))
		again := x.claimOne(now.Add(30*time.Second), "q", "k")
		if again.ID != j.ID || again.Attempt != 2 {
			t.Errorf("claimed job %d attempt %d after the retry delay, want job %d attempt 2", again.ID, again.Attempt, j.ID)
		}

		// A zero delay makes the job ready at once.
		later := now.Add(time.Minute)
		x.finishOne(later, storage.JobFinish{ID: again.ID, LeaseToken: again.LeaseToken, Outcome: storage.OutcomeRetry, ErrorMessage: "flaky"}, true)
		if third := x.claimOne(later, "q", "k"); third.Attempt != 3 {
			t.Errorf("claimed attempt %d after a retry without delay, want 3", third.Attempt)
		}
	})

	f.run(t, "Release", func(t *testing.T, x *fixture) {
		// A release gives the attempt back and makes the job ready at once.
		ins := x.insert(job("q", "k"))
		x.claimOne(base, "q", "k")
		j := x.claimOne(at(2*lease), "q", "k") // a rescue: attempt 2
		now := at(2*lease + time.Second)
		x.finishOne(now, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeRelease}, true)
		want := clone(j)
		want.State = storage.StatePending
		want.Attempt = 1
		want.RunAfter = now
		want.LeaseToken = 0
		want.LeaseExpiresAt = time.Time{}
		x.want(want)
		if again := x.claimOne(now, "q", "k"); again.ID != ins.ID || again.Attempt != 2 {
			t.Errorf("claimed job %d attempt %d after the release, want job %d attempt 2", again.ID, again.Attempt, ins.ID)
		}
	})

	f.run(t, "Mixed", func(t *testing.T, x *fixture) {
		// Each entry of a batch is fenced and applied on its own.
		js := x.claimedJobs(5)
		pending := x.insert(job("q", "k"))
		now := at(time.Second)
		fs := []storage.JobFinish{
			{ID: js[0].ID, LeaseToken: js[0].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte("0")},
			{ID: js[1].ID, LeaseToken: js[1].LeaseToken + 1, Outcome: storage.OutcomeFail, ErrorMessage: "stale"},
			{ID: js[2].ID, LeaseToken: js[2].LeaseToken, Outcome: storage.OutcomeRetry, ErrorMessage: "again", RetryDelay: time.Minute},
			{ID: pending.ID, Outcome: storage.OutcomeComplete},
			{ID: js[3].ID, LeaseToken: js[3].LeaseToken, Outcome: storage.OutcomeAbort, ErrorMessage: "stop"},
			{ID: pending.ID + 1000, LeaseToken: js[4].LeaseToken, Outcome: storage.OutcomeComplete},
			{ID: js[4].ID, LeaseToken: js[4].LeaseToken, Outcome: storage.OutcomeRelease},
		}
		if got, want := x.finish(now, fs...), []bool{true, false, true, false, true, false, true}; !slices.Equal(got, want) {
			t.Errorf("Applied = %v, want %v", got, want)
		}
		want := finished(js[0], storage.StateCompleted, now)
		want.Output = []byte("0")
		x.want(want)
		x.want(js[1])
		x.wantState(js[2].ID, storage.StatePending)
		x.want(pending)
		x.wantState(js[3].ID, storage.StateAborted)
		x.wantState(js[4].ID, storage.StatePending)
	})

	f.run(t, "CompleteMany", func(t *testing.T, x *fixture) {
		// Batches of completions only, with outputs of their own, one
		// output for all, and none: each entry is fenced on its own.
		js := x.claimedJobs(8)
		now := at(time.Second)
		batches := [][]storage.JobFinish{
			{
				{ID: js[0].ID, LeaseToken: js[0].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte(`"a"`)},
				{ID: js[1].ID, LeaseToken: js[1].LeaseToken, Outcome: storage.OutcomeComplete},
				{ID: js[2].ID, LeaseToken: js[2].LeaseToken + 1, Outcome: storage.OutcomeComplete, Output: []byte(`"c"`)},
			},
			{
				{ID: js[3].ID, LeaseToken: js[3].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte(`{"x":1}`)},
				{ID: js[4].ID, LeaseToken: js[4].LeaseToken + 1, Outcome: storage.OutcomeComplete, Output: []byte(`{"x":1}`)},
				{ID: js[5].ID, LeaseToken: js[5].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte(`{"x":1}`)},
			},
			{
				{ID: js[6].ID, LeaseToken: js[6].LeaseToken, Outcome: storage.OutcomeComplete},
				{ID: js[7].ID, LeaseToken: js[7].LeaseToken, Outcome: storage.OutcomeComplete},
			},
		}
		wantApplied := [][]bool{{true, true, false}, {true, false, true}, {true, true}}
		for i, fs := range batches {
			if got := x.finish(now, fs...); !slices.Equal(got, wantApplied[i]) {
				t.Errorf("batch %d: Applied = %v, want %v", i, got, wantApplied[i])
			}
		}
		for i, out := range []string{`"a"`, "", "", `{"x":1}`, "", `{"x":1}`, "", ""} {
			if i == 2 || i == 4 {
				x.want(js[i]) // fenced off: still running
				continue
			}
			want := finished(js[i], storage.StateCompleted, now)
			want.Output = []byte(out)
			x.want(want)
		}
	})

	f.run(t, "Delete", func(t *testing.T, x *fixture) {
		// Delete drops a job that reached a terminal state, and only then.
		js := x.claimedJobs(5)
		outcomes := []storage.Outcome{storage.OutcomeComplete, storage.OutcomeFail, storage.OutcomeAbort, storage.OutcomeRetry, storage.OutcomeRelease}
		fs := make([]storage.JobFinish, len(js))
		for i, j := range js {
			fs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: outcomes[i], Delete: true}
		}
		if got := x.finish(at(time.Second), fs...); !slices.Equal(got, []bool{true, true, true, true, true}) {
			t.Errorf("Applied = %v, want all true", got)
		}
		for _, j := range js[:3] {
			x.gone(j.ID)
		}
		for _, j := range js[3:] {
			x.wantState(j.ID, storage.StatePending)
		}
	})

	f.run(t, "NotRunning", func(t *testing.T, x *fixture) {
		// A pending job was never claimed: nothing may finish it, not even
		// with its zero token.
		p := job("q", "k")
		j := x.insert(p)
		p.RunAfter = at(time.Hour)
		p.Input = []byte(`{"n":2}`)
		deferred := x.insert(p)
		for _, id := range []int64{j.ID, deferred.ID} {
			for _, o := range []storage.Outcome{storage.OutcomeComplete, storage.OutcomeFail, storage.OutcomeRetry, storage.OutcomeRelease, storage.OutcomeAbort} {
				x.finishOne(at(time.Second), storage.JobFinish{ID: id, Outcome: o}, false)
				x.finishOne(at(time.Second), storage.JobFinish{ID: id, LeaseToken: 1, Outcome: o}, false)
			}
		}
		x.want(j)
		x.want(deferred)
	})

	f.run(t, "TerminalFinal", func(t *testing.T, x *fixture) {
		// Nothing moves a job out of a terminal state.
		for range 4 {
			x.insert(job("q", "k"))
		}
		js := x.stored(x.claimAt(base, 3, "q", "k").Jobs)
		if len(js) != 3 {
			t.Fatalf("claimed %d jobs, want 3", len(js))
		}
		x.finish(base,
			storage.JobFinish{ID: js[0].ID, LeaseToken: js[0].LeaseToken, Outcome: storage.OutcomeComplete},
			storage.JobFinish{ID: js[1].ID, LeaseToken: js[1].LeaseToken, Outcome: storage.OutcomeFail},
			storage.JobFinish{ID: js[2].ID, LeaseToken: js[2].LeaseToken, Outcome: storage.OutcomeAbort},
		)
		pending := x.list(&storage.JobListParams{States: []storage.State{storage.StatePending}})
		if len(pending) != 1 {
			t.Fatalf("%d pending jobs, want 1", len(pending))
		}
		if res := x.abort(base, pending[0].ID); res.Result != storage.AbortedNow {
			t.Fatalf("abort of a pending job: result %d, want AbortedNow", res.Result)
		}
		var final []*storage.Job
		for _, j := range js {
			final = append(final, x.get(j.ID))
		}
		final = append(final, x.get(pending[0].ID))

		now := at(time.Hour)
		for i, j := range final {
			token := j.LeaseToken
			if i < len(js) {
				token = js[i].LeaseToken
			}
			for _, o := range []storage.Outcome{storage.OutcomeComplete, storage.OutcomeFail, storage.OutcomeRetry, storage.OutcomeRelease, storage.OutcomeAbort} {
				x.finishOne(now, storage.JobFinish{ID: j.ID, LeaseToken: token, Outcome: o}, false)
			}
			if res := x.heartbeat(now, storage.Lease{ID: j.ID, Token: token}); len(res.Lost) != 1 {
				t.Errorf("heartbeat of %s job %d: Lost %v, want [%d]", j.State, j.ID, res.Lost, j.ID)
			}
			if res := x.abort(now, j.ID); res.Result != storage.AbortTooLate {
				t.Errorf("abort of %s job %d: result %d, want AbortTooLate", j.State, j.ID, res.Result)
			}
		}
		x.claimNone(now, "q", "k")
		for _, j := range final {
			x.want(j)
		}
	})

	f.run(t, "Invalid", func(t *testing.T, x *fixture) {
		// An invalid entry fails the whole call, and nothing is written,
		// not even the valid entries before it.
		j := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		ok := storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete}
		for _, tc := range []struct {
			name string
			bad  storage.JobFinish
		}{
			{"zero outcome", storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken}},
			{"unknown outcome", storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeAbort + 1}},
			{"negative retry delay", storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeRetry, RetryDelay: -time.Second}},
		} {
			_, err := x.s.JobFinish(x.ctx, &storage.JobFinishParams{Jobs: []storage.JobFinish{ok, tc.bad}, Now: at(time.Second)})
			if !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("JobFinish with %s: error %v, want one matching storage.ErrInvalid", tc.name, err)
			}
		}
		x.want(j)
	})
}
