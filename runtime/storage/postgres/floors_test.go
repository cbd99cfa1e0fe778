package postgres

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

var floorBase = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// at is floorBase plus ms milliseconds.
func at(ms int) time.Time { return floorBase.Add(time.Duration(ms) * time.Millisecond) }

func TestRaise(t *testing.T) {
	cut := at(0)
	gap := func(lo, hi int32) priorityRange { return priorityRange{lo: lo, hi: hi} }
	one := func(p int32, ms int, id int64) priorityRange {
		r := priorityRange{lo: p, hi: p, id: id}
		if ms != math.MinInt {
			r.runAfter = at(ms)
		}
		return r
	}
	key := func(p int32, ms int, id int64) claimedKey { return claimedKey{priority: p, runAfter: at(ms), id: id} }
	front := math.MinInt
	initial := initialRanges()
	for _, tc := range []struct {
		name    string
		ranges  []priorityRange
		claimed []claimedKey
		limit   int
		want    []priorityRange
	}{{
		name:   "nothing claimed, all examined: the single priority rises to the cut",
		ranges: initial, limit: 10,
		want: []priorityRange{gap(math.MinInt32, -1), one(0, 0, 0), gap(1, math.MaxInt32)},
	}, {
		name:   "jobs older than the cut: the floor stops at the first",
		ranges: initial, claimed: []claimedKey{key(0, -5000, 7), key(0, -4000, 8)}, limit: 10,
		want: []priorityRange{gap(math.MinInt32, -1), one(0, -5000, 7), gap(1, math.MaxInt32)},
	}, {
		name:   "jobs newer than the cut: the floor stops at the cut",
		ranges: initial, claimed: []claimedKey{key(0, 200, 9)}, limit: 10,
		want: []priorityRange{gap(math.MinInt32, -1), one(0, 0, 0), gap(1, math.MaxInt32)},
	}, {
		name:   "a floor never falls",
		ranges: []priorityRange{gap(math.MinInt32, -1), one(0, 300, 4), gap(1, math.MaxInt32)}, limit: 10,
		want: []priorityRange{gap(math.MinInt32, -1), one(0, 300, 4), gap(1, math.MaxInt32)},
	}, {
		name:    "a gap that returned jobs is split around their priorities",
		ranges:  initial,
		claimed: []claimedKey{key(0, -9000, 1), key(3, -8000, 2), key(3, -7000, 3), key(7, 100, 4)}, limit: 10,
		want: []priorityRange{gap(math.MinInt32, -1), one(0, -9000, 1), gap(1, 2), one(3, -8000, 2), gap(4, 6), one(7, 0, 0),
			gap(8, math.MaxInt32)},
	}, {
		name:    "the limit reached: ranges after the last job's are not examined",
		ranges:  []priorityRange{gap(math.MinInt32, -1), one(0, front, 0), one(5, front, 0), gap(6, math.MaxInt32)},
		claimed: []claimedKey{key(-3, -9000, 1), key(0, -8000, 2)}, limit: 2,
		want: []priorityRange{gap(math.MinInt32, -4), one(-3, -9000, 1), gap(-2, -1), one(0, -8000, 2), one(5, front, 0),
			gap(6, math.MaxInt32)},
	}, {
		name:    "the top priority",
		ranges:  []priorityRange{gap(math.MinInt32, math.MaxInt32)},
		claimed: []claimedKey{key(math.MaxInt32, -1000, 1)}, limit: 5,
		want: []priorityRange{gap(math.MinInt32, math.MaxInt32-1), one(math.MaxInt32, -1000, 1)},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := raise(tc.ranges, tc.claimed, tc.limit, cut)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(priorityRange{})); diff != "" {
				t.Errorf("raise (-want +got):\n%s", diff)
			}
		})
	}
}

// floorClaim claims up to limit jobs of queue "q", kind "k" at now and
// completes them, and returns their ids.
func floorClaim(t *testing.T, s *Store, now time.Time, limit int) []int64 {
	t.Helper()
	res, err := s.JobClaim(t.Context(), &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: limit, LeaseDuration: time.Minute, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(res.Jobs))
	fs := make([]storage.JobFinish, len(res.Jobs))
	for i, j := range res.Jobs {
		ids[i] = j.ID
		fs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete}
	}
	if len(fs) > 0 {
		if _, err := s.JobFinish(t.Context(), &storage.JobFinishParams{Jobs: fs, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// floorInsert inserts a job of queue "q", kind "k" at now with priority
// and runAfter (zero: now), and returns its id.
func floorInsert(t *testing.T, s *Store, now, runAfter time.Time, priority int) int64 {
	t.Helper()
	p := insertParams("q", "k")
	p.Now, p.RunAfter, p.Priority = now, runAfter, priority
	res, err := s.JobInsert(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

// churn inserts and then claims and completes n jobs, 10 ms apart on the
// test clock from floorBase, ten per claim, and returns the clock of the
// last claim.
func churn(t *testing.T, s *Store, n int) time.Time {
	t.Helper()
	jobs := make([]*storage.JobInsertParams, n)
	for i := range jobs {
		jobs[i] = insertParams("q", "k")
		jobs[i].Now = at(10 * i)
	}
	if _, err := s.JobInsertMany(t.Context(), &storage.JobInsertManyParams{Jobs: jobs}); err != nil {
		t.Fatal(err)
	}
	var now time.Time
	for i := 0; i < n; i += 10 {
		now = at(10*i + 95)
		if got := floorClaim(t, s, now, 10); len(got) != 10 {
			t.Fatalf("claim at %v got %d jobs, want 10", now, len(got))
		}
	}
	return now
}

// holdHorizon pins the cluster's xmin horizon until the test ends, as an
// idle transaction with an xid elsewhere does.
func holdHorizon(t *testing.T, s *Store) {
	t.Helper()
	tx, err := s.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(t.Context()) })
	if _, err := tx.Exec(t.Context(), "SELECT txid_current()"); err != nil {
		t.Fatal(err)
	}
}

// pendingScanBuffers runs the claim of plan pl at now under EXPLAIN
// (ANALYZE, BUFFERS) in a transaction it rolls back, and returns the
// buffers the scan of the pending index touched.
func pendingScanBuffers(t *testing.T, s *Store, pl *claimPlan, now time.Time) int {
	t.Helper()
	p := &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: pl.limit, LeaseDuration: time.Minute, Now: now}
	return scanBuffers(t, s, "jobgen_jobs_pending", s.q.claim, s.claimArgs(p, pl)...)
}

// scanBuffers runs sql with args under EXPLAIN (ANALYZE, BUFFERS), with
// the pinned plan settings, in a transaction it rolls back, and returns
// the buffers the scans of index touched.
func scanBuffers(t *testing.T, s *Store, index, sql string, args ...any) int {
	t.Helper()
	tx, err := s.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(t.Context()) }()
	if _, err := tx.Exec(t.Context(), pinGenericSQL); err != nil {
		t.Fatal(err)
	}
	var out []byte
	args = append([]any{pgx.QueryExecModeExec}, args...)
	if err := tx.QueryRow(t.Context(), "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+sql, args...).Scan(&out); err != nil {
		t.Fatal(err)
	}
	type node struct {
		IndexName string `json:"Index Name"`
		Hit       int    `json:"Shared Hit Blocks"`
		Read      int    `json:"Shared Read Blocks"`
		Plans     []node `json:"Plans"`
	}
	var plans []struct{ Plan node }
	if err := json.Unmarshal(out, &plans); err != nil {
		t.Fatal(err)
	}
	total, found := 0, false
	var walk func(n node)
	walk = func(n node) {
		if n.IndexName == s.n.prefix+index {
			total, found = total+n.Hit+n.Read, true
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	if !found {
		t.Fatalf("no scan of %s in the plan:\n%s", index, out)
	}
	return total
}

// TestClaimFloorsWhileHorizonHeld: with the horizon pinned, the dead
// entries of every job claimed since stay in the pending index; a claim
// from the floors reads a handful of its buffers where one from the front
// reads them all.
func TestClaimFloorsWhileHorizonHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("churns 5,000 jobs")
	}
	s := newTestStore(t)
	holdHorizon(t, s)
	last := churn(t, s, 5000)
	next := last.Add(5 * time.Millisecond)
	for range 10 {
		floorInsert(t, s, next, time.Time{}, 0)
	}
	s.floors.mu.Lock()
	floor := &claimPlan{limit: 10}
	floor.set(append([]priorityRange(nil), s.floors.claims[claimKey("q", []string{"k"})].ranges...))
	s.floors.mu.Unlock()
	fromFloors := pendingScanBuffers(t, s, floor, next)
	fromFront := pendingScanBuffers(t, s, fullPlan(10), next)
	t.Logf("pending-index scan buffers: from the floors %d, from the front %d", fromFloors, fromFront)
	if fromFloors*10 > fromFront {
		t.Errorf("the claim from the floors read %d buffers of the pending index, from the front %d: want at most a tenth", fromFloors, fromFront)
	}
	// And the claim itself returns the ten new jobs.
	if got := floorClaim(t, s, next, 100); len(got) != 10 {
		t.Errorf("claimed %d jobs, want the 10 new ones", len(got))
	}
}

// TestClaimFloorsOwnInsertBelow: a job the store itself inserts behind a
// floor lowers it, so the next claim takes it.
func TestClaimFloorsOwnInsertBelow(t *testing.T) {
	s := newTestStore(t)
	last := churn(t, s, 300)
	now := last.Add(time.Millisecond)
	id := floorInsert(t, s, now, floorBase.Add(-time.Hour), 0)
	if got := floorClaim(t, s, now, 10); !cmp.Equal(got, []int64{id}) {
		t.Errorf("claimed %v, want the job inserted behind the floor, %d", got, id)
	}
}

// TestClaimFloorsOtherStore: jobs another store (another process) makes
// pending are claimed in claim order: a new priority ahead of the floors at
// once (the gaps are scanned from their front), a job behind a floor by the
// next probe of the floors, probeMax later at most.
func TestClaimFloorsOtherStore(t *testing.T) {
	s := newTestStore(t)
	other, err := New(s.pool, &Options{Schema: s.n.schema})
	if err != nil {
		t.Fatal(err)
	}
	last := churn(t, s, 300)
	now := last.Add(time.Millisecond)
	urgent := floorInsert(t, other, now, time.Time{}, -5)
	normal := floorInsert(t, other, now, time.Time{}, 0)
	if got := floorClaim(t, s, now, 1); !cmp.Equal(got, []int64{urgent}) {
		t.Errorf("claimed %v, want the job of the new, higher priority, %d", got, urgent)
	}
	if got := floorClaim(t, s, now, 1); !cmp.Equal(got, []int64{normal}) {
		t.Errorf("claimed %v, want %d", got, normal)
	}
	late := floorInsert(t, other, now, floorBase.Add(-time.Hour), 0)
	for step := now; ; step = step.Add(250 * time.Millisecond) {
		if step.After(now.Add(probeMax)) {
			t.Fatalf("the job inserted behind the floor by another store, %d, was not claimed within %v", late, probeMax)
		}
		got := floorClaim(t, s, step, 10)
		s.floors.probes.Wait() // the probe a claim started has lowered the floor
		if len(got) > 0 {
			if !cmp.Equal(got, []int64{late}) {
				t.Fatalf("claimed %v, want %d", got, late)
			}
			break
		}
	}
}
