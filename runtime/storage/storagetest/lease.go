package storagetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func testLease(t *testing.T, f factory) {
	f.run(t, "HeartbeatExtends", func(t *testing.T, x *fixture) {
		j := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		now := at(30 * time.Second)
		res, err := x.s.JobHeartbeat(x.ctx, &storage.JobHeartbeatParams{
			Leases:        []storage.Lease{{ID: j.ID, Token: j.LeaseToken}},
			LeaseDuration: 2 * time.Minute,
			Now:           now,
		})
		if err != nil {
			t.Fatalf("JobHeartbeat: %v", err)
		}
		if len(res.Lost) != 0 || len(res.AbortRequested) != 0 {
			t.Errorf("heartbeat of a held job: Lost %v, AbortRequested %v; want both empty", res.Lost, res.AbortRequested)
		}
		want := clone(j)
		want.LeaseExpiresAt = now.Add(2 * time.Minute)
		x.want(want)
		// The old expiry has passed, the new one has not.
		x.claimNone(at(2*time.Minute), "q", "k")
		x.want(want)
	})

	f.run(t, "HeartbeatLost", func(t *testing.T, x *fixture) {
		j := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		p1, p2 := x.insert(job("q", "k")), x.insert(job("q", "k"))
		unknown := p2.ID + 1000
		stale := []storage.Lease{
			{ID: j.ID, Token: j.LeaseToken + 1},
			{ID: p1.ID, Token: j.LeaseToken},
			{ID: p2.ID}, // a pending job's token is zero, but it is not held
			{ID: unknown, Token: j.LeaseToken},
		}
		res := x.heartbeat(at(time.Second), stale...)
		want := sorted([]int64{j.ID, p1.ID, p2.ID, unknown})
		if got := sorted(res.Lost); !slices.Equal(got, want) {
			t.Errorf("heartbeat with stale leases: Lost %v, want %v", got, want)
		}
		if len(res.AbortRequested) != 0 {
			t.Errorf("heartbeat with stale leases: AbortRequested %v, want none", res.AbortRequested)
		}
		x.want(j)
		x.want(p1)
		x.want(p2)
	})

	f.run(t, "HeartbeatInvalid", func(t *testing.T, x *fixture) {
		j := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		for _, d := range []time.Duration{0, -time.Second} {
			_, err := x.s.JobHeartbeat(x.ctx, &storage.JobHeartbeatParams{
				Leases:        []storage.Lease{{ID: j.ID, Token: j.LeaseToken}},
				LeaseDuration: d,
				Now:           at(time.Second),
			})
			if !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("JobHeartbeat with lease duration %v: error %v, want one matching storage.ErrInvalid", d, err)
			}
		}
		x.want(j)
	})

	f.run(t, "Rescue", func(t *testing.T, x *fixture) {
		// A running job whose lease expired is claimed again, with a new
		// token; the old token is dead.
		first := x.claimOne(base, "q", x.insert(job("q", "k")).Kind)
		x.claimNone(at(lease-time.Second), "q", "k")
		now := at(lease + time.Second)
		second := x.claimOne(now, "q", "k")
		if second.ID != first.ID {
			t.Fatalf("rescued job %d, want %d", second.ID, first.ID)
		}
		if second.LeaseToken == 0 || second.LeaseToken == first.LeaseToken {
			t.Errorf("rescue token %d, first token %d: want a new, non-zero token", second.LeaseToken, first.LeaseToken)
		}
		want := clone(first)
		want.Attempt = 2
		want.LeaseToken = second.LeaseToken
		want.LeaseExpiresAt = now.Add(lease)
		want.AttemptedAt = now
		checkJob(t, "rescue claim", second, want)

		later := now.Add(time.Second)
		if res := x.heartbeat(later, storage.Lease{ID: first.ID, Token: first.LeaseToken}); !slices.Equal(res.Lost, []int64{first.ID}) {
			t.Errorf("heartbeat with the old token: Lost %v, want [%d]", res.Lost, first.ID)
		}
		for _, o := range []storage.Outcome{storage.OutcomeComplete, storage.OutcomeFail, storage.OutcomeRetry, storage.OutcomeRelease, storage.OutcomeAbort} {
			x.finishOne(later, storage.JobFinish{ID: first.ID, LeaseToken: first.LeaseToken, Outcome: o}, false)
		}
		x.want(want)
		x.complete(later, second.ID, second.LeaseToken)
	})

	f.run(t, "ExpiredNotRescued", func(t *testing.T, x *fixture) {
		// A lease that expired while nobody claimed the job is still the
		// job's lease: its holder may renew it or finish the job.
		js := x.claimedJobs(2)
		now := at(lease + time.Minute)
		if res := x.heartbeat(now, storage.Lease{ID: js[0].ID, Token: js[0].LeaseToken}); len(res.Lost) != 0 {
			t.Errorf("heartbeat after the lease expired, before any rescue: Lost %v, want none", res.Lost)
		}
		want := clone(js[0])
		want.LeaseExpiresAt = now.Add(lease)
		x.want(want)
		x.complete(now, js[1].ID, js[1].LeaseToken)
		x.claimNone(now, "q", "k")
	})

	f.run(t, "TokensUnique", func(t *testing.T, x *fixture) {
		var tokens []int64
		js := x.claimedJobs(3)
		for _, j := range js {
			tokens = append(tokens, j.LeaseToken)
		}
		x.finishOne(base, storage.JobFinish{ID: js[0].ID, LeaseToken: js[0].LeaseToken, Outcome: storage.OutcomeRelease}, true)
		tokens = append(tokens, x.claimOne(base, "q", "k").LeaseToken)
		tokens = append(tokens, x.claimOne(at(2*lease), "q", "k").LeaseToken) // a rescue
		seen := make(map[int64]bool)
		for _, tok := range tokens {
			if tok == 0 || seen[tok] {
				t.Fatalf("lease tokens %v: want every claim's token non-zero and distinct", tokens)
			}
			seen[tok] = true
		}
	})

	f.run(t, "ExpiredOnLastAttempt", func(t *testing.T, x *fixture) {
		// A job that keeps losing its lease ends failed when its attempts
		// run out; the claim that finds it does not return it.
		p := job("q", "k")
		p.MaxAttempts = 2
		p.UniqueKey = "once"
		ins := x.insert(p)
		first := x.claimOne(base, "q", "k")
		second := x.claimOne(at(2*lease), "q", "k")
		if second.ID != ins.ID || second.Attempt != 2 {
			t.Fatalf("rescue claimed job %d attempt %d, want job %d attempt 2", second.ID, second.Attempt, ins.ID)
		}
		other := job("q", "k")
		other.Now = at(3 * lease)
		next := x.insert(other)
		now := at(4 * lease)
		res := x.claimAt(now, 10, "q", "k")
		if got := ids(res.Jobs); !slices.Equal(got, []int64{next.ID}) {
			t.Fatalf("claim after the last attempt's lease expired got ids %v, want only [%d]", got, next.ID)
		}
		got := x.get(ins.ID)
		if !strings.Contains(strings.ToLower(got.ErrorMessage), "lease") {
			t.Errorf("ErrorMessage %q, want one that says the lease expired", got.ErrorMessage)
		}
		want := clone(second)
		want.State = storage.StateFailed
		want.LeaseToken = 0
		want.LeaseExpiresAt = time.Time{}
		want.ErrorCode = "lease_expired"
		want.ErrorMessage = got.ErrorMessage
		want.FinishedAt = now
		checkJob(t, "JobGet", got, want)

		for _, l := range []storage.Lease{{ID: first.ID, Token: first.LeaseToken}, {ID: second.ID, Token: second.LeaseToken}} {
			x.finishOne(now, storage.JobFinish{ID: l.ID, LeaseToken: l.Token, Outcome: storage.OutcomeComplete}, false)
			if res := x.heartbeat(now, l); len(res.Lost) != 1 {
				t.Errorf("heartbeat of the failed job with token %d: Lost %v, want [%d]", l.Token, res.Lost, l.ID)
			}
		}
		x.want(want)
	})

	f.run(t, "ExpiryElsewhereUntouched", func(t *testing.T, x *fixture) {
		// Expired leases of other queues and kinds are left to their own
		// claimers, even on their last attempt.
		var held []*storage.Job
		for _, qk := range [][2]string{{"q", "other"}, {"elsewhere", "k"}} {
			p := job(qk[0], qk[1])
			p.MaxAttempts = 1
			x.insert(p)
			held = append(held, x.claimOne(base, qk[0], qk[1]))
		}
		x.claimNone(at(2*lease), "q", "k")
		for _, j := range held {
			x.want(j)
		}
	})
}
