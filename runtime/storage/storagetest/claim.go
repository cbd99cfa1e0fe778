package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func testClaim(t *testing.T, f factory) {
	f.run(t, "Order", func(t *testing.T, x *fixture) {
		// Priority first (smaller first), then RunAfter, then ID. Queue
		// "one" is claimed a job at a time, queue "all" in one claim.
		specs := []struct {
			name     string
			priority int
			runAfter time.Duration
		}{
			{"a", 1, -3 * time.Second},
			{"b", 0, -1 * time.Second},
			{"c", 0, -2 * time.Second},
			{"d", 0, -2 * time.Second},
			{"e", -1, -1 * time.Second},
			{"f", 1, -3 * time.Second},
			{"g", 0, 0},
		}
		want := []string{"e", "c", "d", "b", "g", "a", "f"}
		for _, q := range []string{"one", "all"} {
			for _, s := range specs {
				p := job(q, "k")
				p.Priority = s.priority
				p.RunAfter = at(s.runAfter)
				p.Input = []byte(`"` + s.name + `"`)
				x.insert(p)
			}
		}
		name := func(input []byte) string { return string(input[1 : len(input)-1]) }
		var one, all []string
		for range want {
			one = append(one, name(x.claimOne(base, "one", "k").Input))
		}
		x.claimNone(base, "one", "k")
		for _, j := range x.claimAt(base, 100, "all", "k").Jobs {
			all = append(all, name(j.Input))
		}
		if !slices.Equal(one, want) {
			t.Errorf("claimed one at a time in order %v, want %v", one, want)
		}
		if !slices.Equal(all, want) {
			t.Errorf("claimed in one call in order %v, want %v", all, want)
		}
	})

	f.run(t, "OrderAcrossKinds", func(t *testing.T, x *fixture) {
		// The order holds across the kinds of one claim.
		var want []int64
		for i, k := range []string{"a", "b", "a", "c", "b"} {
			p := job("q", k)
			p.Priority = -i // later inserts first
			want = append([]int64{x.insert(p).ID}, want...)
		}
		if got := ids(x.claimAt(base, 10, "q", "a", "b", "c").Jobs); !slices.Equal(got, want) {
			t.Errorf("claimed ids %v, want %v", got, want)
		}
	})

	f.run(t, "Fields", func(t *testing.T, x *fixture) {
		p := job("q", "k")
		p.Priority = 2
		p.Deadline = at(time.Hour)
		p.Timeout = time.Minute
		p.UniqueKey = "u"
		ins := x.insert(p)
		now := at(time.Second)
		res := x.claim(&storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 5, LeaseDuration: 30 * time.Second, Now: now})
		checkTime(t, "JobClaimResult.Now", res.Now, now)
		if len(res.Jobs) != 1 {
			t.Fatalf("claimed %d jobs, want 1", len(res.Jobs))
		}
		got := res.Jobs[0] // x.claim checked it holds a token
		want := clone(ins)
		want.State = storage.StateRunning
		want.Attempt = 1
		want.LeaseToken = got.LeaseToken
		want.LeaseExpiresAt = now.Add(30 * time.Second)
		want.AttemptedAt = now
		checkClaim(t, "JobClaim", got, want)
		x.want(want)
	})

	f.run(t, "Filter", func(t *testing.T, x *fixture) {
		// A claim touches only its queue and kinds.
		mine := []int64{x.insert(job("q1", "k1")).ID}
		others := []*storage.Job{x.insert(job("q1", "k2")), x.insert(job("q2", "k1"))}
		mine = append(mine, x.insert(job("q1", "k3")).ID)
		others = append(others, x.insert(job("q2", "k3")), x.insert(job("q", "k1")))
		if got := ids(x.claimAt(base, 10, "q1", "k1", "k3").Jobs); !slices.Equal(got, mine) {
			t.Errorf("claimed ids %v, want %v", got, mine)
		}
		for _, j := range others {
			x.want(j)
		}
		x.claimNone(base, "q1", "k1", "k3")
	})

	f.run(t, "RepeatedKind", func(t *testing.T, x *fixture) {
		// A kind named twice is still claimed once per job.
		var want []int64
		for range 3 {
			want = append(want, x.insert(job("q", "k")).ID)
		}
		if got := ids(x.claimAt(base, 10, "q", "k", "k").Jobs); !slices.Equal(got, want) {
			t.Errorf("claimed ids %v, want %v", got, want)
		}
	})

	f.run(t, "Limit", func(t *testing.T, x *fixture) {
		for range 5 {
			x.insert(job("q", "k"))
		}
		for i, want := range []int{2, 2, 1, 0} {
			if got := len(x.claimAt(base, 2, "q", "k").Jobs); got != want {
				t.Errorf("claim %d with limit 2 got %d jobs, want %d", i, got, want)
			}
		}
	})

	f.run(t, "Empty", func(t *testing.T, x *fixture) {
		res := x.claimNone(base, "q", "k")
		if !res.NextRunAfter.IsZero() {
			t.Errorf("NextRunAfter of an empty store = %v, want zero", res.NextRunAfter)
		}
		checkTime(t, "JobClaimResult.Now", res.Now, base)
	})

	f.run(t, "Invalid", func(t *testing.T, x *fixture) {
		j := x.insert(job("q", "k"))
		for _, tc := range []struct {
			name string
			edit func(*storage.JobClaimParams)
		}{
			{"empty queue", func(p *storage.JobClaimParams) { p.Queue = "" }},
			{"no kinds", func(p *storage.JobClaimParams) { p.Kinds = nil }},
			{"zero limit", func(p *storage.JobClaimParams) { p.Limit = 0 }},
			{"negative limit", func(p *storage.JobClaimParams) { p.Limit = -1 }},
			{"zero lease", func(p *storage.JobClaimParams) { p.LeaseDuration = 0 }},
			{"negative lease", func(p *storage.JobClaimParams) { p.LeaseDuration = -time.Second }},
		} {
			p := claimParams(base, 10, "q", "k")
			tc.edit(p)
			if _, err := x.s.JobClaim(x.ctx, p); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("JobClaim with %s: error %v, want one matching storage.ErrInvalid", tc.name, err)
			}
		}
		x.want(j)
	})

	f.run(t, "Concurrent", func(t *testing.T, x *fixture) {
		// Claimers racing over the same jobs get each job exactly once.
		const claimers, jobs = 8, 500
		ps := make([]*storage.JobInsertParams, jobs)
		for i := range ps {
			ps[i] = job("q", fmt.Sprint("k", i%2))
			ps[i].Priority = i % 3
		}
		res, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base})
		if err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		want := make([]int64, 0, jobs)
		for _, r := range res {
			want = append(want, r.Job.ID)
		}

		var (
			mu      sync.Mutex
			claimed []int64
			wg      sync.WaitGroup
		)
		for c := range claimers {
			wg.Go(func() {
				for i := 0; ; i++ {
					p := claimParams(base, 1+(c+i)%10, "q", "k0", "k1")
					p.LeaseDuration = time.Hour
					res, err := x.s.JobClaim(x.ctx, p)
					if err != nil {
						t.Errorf("claimer %d: JobClaim: %v", c, err)
						return
					}
					if len(res.Jobs) == 0 {
						return
					}
					if len(res.Jobs) > p.Limit {
						t.Errorf("claimer %d: claimed %d jobs with limit %d", c, len(res.Jobs), p.Limit)
					}
					fs := make([]storage.JobFinish, len(res.Jobs))
					for i, j := range res.Jobs {
						fs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete}
					}
					fin, err := x.s.JobFinish(x.ctx, &storage.JobFinishParams{Jobs: fs, Now: base})
					if err != nil {
						t.Errorf("claimer %d: JobFinish: %v", c, err)
						return
					}
					for i, ok := range fin.Applied {
						if !ok {
							t.Errorf("claimer %d: finishing job %d it holds was not applied", c, fs[i].ID)
						}
					}
					mu.Lock()
					claimed = append(claimed, ids(res.Jobs)...)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		x.claimNone(base, "q", "k0", "k1")
		got := sorted(claimed)
		for i := 1; i < len(got); i++ {
			if got[i] == got[i-1] {
				t.Fatalf("job %d was claimed twice", got[i])
			}
		}
		if !slices.Equal(got, sorted(want)) {
			t.Fatalf("claimed %d distinct jobs, want all %d", len(got), jobs)
		}
		done := x.list(&storage.JobListParams{States: []storage.State{storage.StateCompleted}, Limit: 10000})
		if len(done) != jobs {
			t.Errorf("%d jobs completed, want %d", len(done), jobs)
		}
	})

	f.run(t, "ConcurrentRescue", func(t *testing.T, x *fixture) {
		// Claimers race while dropping some jobs, whose leases then expire
		// and are rescued, and finishing others late, with tokens that a
		// rescue may have made stale. Every job completes exactly once.
		const claimers, jobs = 6, 200
		ps := make([]*storage.JobInsertParams, jobs)
		for i := range ps {
			ps[i] = job("q", "k")
			ps[i].MaxAttempts = 1000
		}
		if _, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base}); err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		var (
			tick      atomic.Int64 // the shared clock, in seconds after base
			completed atomic.Int64
			mu        sync.Mutex
			applied   = make(map[int64]int) // completions applied per job
			wg        sync.WaitGroup
		)
		clock := func() time.Time { return at(time.Duration(tick.Add(1)) * time.Second) }
		complete := func(c int, ls []storage.Lease) bool {
			fs := make([]storage.JobFinish, len(ls))
			for i, l := range ls {
				fs[i] = storage.JobFinish{ID: l.ID, LeaseToken: l.Token, Outcome: storage.OutcomeComplete}
			}
			res, err := x.s.JobFinish(x.ctx, &storage.JobFinishParams{Jobs: fs, Now: clock()})
			if err != nil {
				t.Errorf("claimer %d: JobFinish: %v", c, err)
				return false
			}
			mu.Lock()
			defer mu.Unlock()
			for i, ok := range res.Applied {
				if ok {
					applied[ls[i].ID]++
					completed.Add(1)
				}
			}
			return true
		}
		for c := range claimers {
			wg.Go(func() {
				var abandoned []storage.Lease
				for i := 0; completed.Load() < jobs; i++ {
					if i > 20000 {
						t.Errorf("claimer %d: %d of %d jobs completed after %d rounds", c, completed.Load(), jobs, i)
						return
					}
					p := claimParams(clock(), 1+(c+i)%5, "q", "k")
					p.LeaseDuration = 15 * time.Second
					res, err := x.s.JobClaim(x.ctx, p)
					if err != nil {
						t.Errorf("claimer %d: JobClaim: %v", c, err)
						return
					}
					var done []storage.Lease
					for k, j := range res.Jobs {
						l := storage.Lease{ID: j.ID, Token: j.LeaseToken}
						switch {
						case j.Attempt > 1:
							done = append(done, l) // rescues always finish
						case (c+i+k)%4 == 0:
							// The worker died: only a rescue finishes it.
						case (c+i+k)%4 == 1:
							abandoned = append(abandoned, l)
						default:
							done = append(done, l)
						}
					}
					// Now and then finish what was abandoned: applied if
					// nobody rescued it meanwhile, else stale.
					if i%5 == 0 {
						done = append(done, abandoned...)
						abandoned = abandoned[:0]
					}
					if len(done) > 0 && !complete(c, done) {
						return
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		if len(applied) != jobs {
			t.Errorf("%d jobs completed, want %d", len(applied), jobs)
		}
		for id, n := range applied {
			if n != 1 {
				t.Errorf("job %d: %d completions applied, want 1", id, n)
			}
		}
		done := x.list(&storage.JobListParams{States: []storage.State{storage.StateCompleted}, Limit: 10000})
		if len(done) != jobs {
			t.Errorf("%d jobs stored as completed, want %d", len(done), jobs)
		}
		rescued := 0
		for _, j := range done {
			if j.Attempt > 1 {
				rescued++
			}
		}
		if rescued == 0 {
			t.Errorf("no job was rescued; the test did not exercise expired leases")
		}
	})
}
