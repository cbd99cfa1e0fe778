package postgres

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// The claim floors keep claims cheap while PostgreSQL cannot remove dead
// row versions (docs/design.md, "When PostgreSQL cannot vacuum"). A claimed
// job leaves its entry in the pending index until vacuum or a later scan's
// kill bit removes it, and neither can while another session pins the
// cluster's xmin horizon: every claim that starts at the front of its
// queue's entries then walks past every job claimed since the horizon was
// pinned. So the store remembers, per claim (queue and kinds) and per
// priority, a floor: a claim-order key (run_after, id) below which it has
// already seen every entry it could claim, and each claim's index scan
// starts at the floors instead of at the front. The rescue of expired
// leases reads the running-lease index, whose dead entries pile up the
// same way: it runs once per rescueInterval, from a floor of its own.
//
// A floor only rises to what a claim has just walked past: to the first job
// it returned at that priority, and never above its clock less
// floorMargin, so that a job whose insert began before that clock but
// committed after the claim's snapshot is still ahead of the floor. Jobs
// the store itself makes pending below a floor (an insert with a RunAfter
// in the past, say) lower it at once. What no claim of this store can see
// coming (such a job from another process, a job a concurrent claim skipped
// as locked and then gave back, a transaction that committed more than
// floorMargin after it began) is found by a probe: a read-only scan from
// the front, on its own connection and off the claim's path, that lowers
// a floor to the first claimable job behind it. It runs every probeMin, or
// less often when it is slow (see probeEvery).
//
// Priorities are kept as ranges covering every int32: a range of one
// priority has a floor; a range of several (a gap between the priorities
// seen so far) is always scanned from its front, and is split as soon as a
// claim returns one of its jobs.

// floorMargin is how far below its own clock a claim may raise a floor:
// longer than a single insert takes from its start to its commit, short
// enough that the dead entries a claim walks above its floor stay few.
const floorMargin = 250 * time.Millisecond

// A claim's floors are probed every probeMin, or, when a probe takes more
// than a probeShare-th of that, so much less often that probes take that
// share of the time, but at least every probeMax.
const (
	probeMin   = time.Second
	probeMax   = 30 * time.Second
	probeShare = 100
)

// rescueInterval is how often a claim rescues jobs whose lease expired:
// the smaller of this and half the claim's lease.
const rescueInterval = time.Second

// claimFloors holds the floors of every claim the store has made.
type claimFloors struct {
	mu     sync.Mutex
	claims map[string]*claimFloor // by claimKey
	probes sync.WaitGroup         // the probes in flight
	closed bool                   // no probe starts any more
}

// close keeps probes from starting and waits for those in flight.
func (f *claimFloors) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.probes.Wait()
}

// claimFloor is the state of one claim (queue and kinds).
type claimFloor struct {
	queue  string
	kinds  []string
	ranges []priorityRange // in priority order, covering every int32
	// rescueFrom is the rescue's floor: no lease it could rescue expired
	// before it.
	rescueFrom time.Time
	// gen counts lowerings, so a claim that raced one does not raise a
	// floor past the job that lowered it.
	gen        uint64
	rescuedAt  time.Time     // the last claim that rescued
	probedAt   time.Time     // the start of the last probe
	probeEvery time.Duration // see probeEvery
	probing    bool          // a probe is in flight
}

// probeEvery returns how often to probe after a probe that took took.
func probeEvery(took time.Duration) time.Duration {
	return min(max(took*probeShare, probeMin), probeMax)
}

// priorityRange is the priorities lo..hi and where a claim's scan of them
// starts: (lo, runAfter, id) in claim order. For a range of several
// priorities the start is always its front.
type priorityRange struct {
	lo, hi   int32
	runAfter time.Time
	id       int64
}

// single reports whether the range holds one priority.
func (r priorityRange) single() bool { return r.lo == r.hi }

// claimPlan is what one claim sends: where each range's scan starts and
// whether and from where to rescue; and what it needs to raise the floors
// afterwards.
type claimPlan struct {
	floors     *claimFloors // nil for a claim that keeps no floors
	floor      *claimFloor
	gen        uint64
	ranges     []priorityRange
	rescue     bool
	rescueFrom time.Time
	lo, hi     []int32
	runAfter   []time.Time
	ids        []int64
	limit      int
	// probe asks the claimer to start a probe of the floors (see
	// Store.probe) for the claim's parameters; it is counted in probes.
	probe bool
}

// fullPlan is the plan of a claim that scans every priority from the
// front and rescues: the claim of a WithTx view, which keeps no floors.
func fullPlan(limit int) *claimPlan {
	pl := &claimPlan{rescue: true, limit: limit}
	pl.set([]priorityRange{{lo: math.MinInt32, hi: math.MaxInt32}})
	return pl
}

// set fills the plan's parameter arrays from ranges.
func (pl *claimPlan) set(ranges []priorityRange) {
	pl.ranges = ranges
	pl.lo = make([]int32, len(ranges))
	pl.hi = make([]int32, len(ranges))
	pl.runAfter = make([]time.Time, len(ranges))
	pl.ids = make([]int64, len(ranges))
	for i, r := range ranges {
		pl.lo[i], pl.hi[i], pl.runAfter[i], pl.ids[i] = r.lo, r.hi, r.runAfter, r.id
	}
}

// claimKey names a claim: its queue and kinds.
func claimKey(queue string, kinds []string) string {
	return queue + "\x00" + strings.Join(kinds, "\x00")
}

// initialRanges are the ranges of a claim never made before: the default
// priority, 0, on its own, so the common case never scans a gap that holds
// the dead entries of its own jobs.
func initialRanges() []priorityRange {
	return []priorityRange{{lo: math.MinInt32, hi: -1}, {lo: 0, hi: 0}, {lo: 1, hi: math.MaxInt32}}
}

// plan returns the plan of the next claim of p. Its clock is p.Now, or
// the local clock when that is zero.
func (f *claimFloors) plan(p *storage.JobClaimParams) *claimPlan {
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.claims == nil {
		f.claims = make(map[string]*claimFloor)
	}
	key := claimKey(p.Queue, p.Kinds)
	c := f.claims[key]
	if c == nil {
		c = &claimFloor{queue: p.Queue, kinds: append([]string(nil), p.Kinds...), ranges: initialRanges(), probedAt: now}
		f.claims[key] = c
	}
	pl := &claimPlan{floors: f, floor: c, gen: c.gen, limit: p.Limit, rescueFrom: c.rescueFrom}
	if since := now.Sub(c.probedAt); !f.closed && !c.probing && (since >= max(c.probeEvery, probeMin) || since < 0) {
		c.probing, c.probedAt, pl.probe = true, now, true
		f.probes.Add(1)
	}
	every := min(rescueInterval, p.LeaseDuration/2)
	if since := now.Sub(c.rescuedAt); c.rescuedAt.IsZero() || since >= every || since < 0 {
		pl.rescue = true
		c.rescuedAt = now
	}
	pl.set(append([]priorityRange(nil), c.ranges...))
	return pl
}

// claimedKey is a claimed job's place in claim order.
type claimedKey struct {
	priority int32
	runAfter time.Time
	id       int64
}

// compareInRange orders keys of one priority, and a range's start among them.
func compareInRange(runAfter time.Time, id int64, k claimedKey) int {
	return cmp.Or(runAfter.Compare(k.runAfter), cmp.Compare(id, k.id))
}

// done raises the floors after the plan's claim, given the jobs it
// claimed in claim order and the storage clock it ran at. A claim that
// rescued raises the rescue's floor when it claimed fewer than its limit
// (so it found every expired lease), and no other: its rows mix rescued
// jobs, which were never in the pending index, with pending ones.
func (pl *claimPlan) done(claimed []claimedKey, clock time.Time) {
	if pl.floors == nil {
		return
	}
	pl.floors.mu.Lock()
	defer pl.floors.mu.Unlock()
	c := pl.floor
	if c.gen != pl.gen {
		return // a floor was lowered meanwhile
	}
	cut := clock.Add(-floorMargin)
	if !pl.rescue {
		c.ranges = raise(pl.ranges, claimed, pl.limit, cut)
	} else if len(claimed) < pl.limit && cut.After(c.rescueFrom) {
		c.rescueFrom = cut
	}
}

// raise returns ranges with their floors raised after a claim that
// returned claimed (in claim order) of at most limit, whose clock less
// floorMargin is cut. The claim examined a range's every entry up to its
// clock when it returned fewer than limit jobs, or jobs of a later range;
// the range it returned its last job from up to that job only. A single
// priority's floor rises to the first job returned from it, or to cut
// when that is lower or it returned none; a gap that returned jobs is
// split around their priorities.
func raise(ranges []priorityRange, claimed []claimedKey, limit int, cut time.Time) []priorityRange {
	exhaustive := len(claimed) < limit
	last := -1 // the range of the last claimed job
	if len(claimed) > 0 {
		last = rangeOf(ranges, claimed[len(claimed)-1].priority)
	}
	out := make([]priorityRange, 0, len(ranges)+2)
	k := 0 // next claimed job
	for i, r := range ranges {
		examined := exhaustive || i <= last
		start := k
		for k < len(claimed) && claimed[k].priority <= r.hi {
			k++
		}
		in := claimed[start:k]
		switch {
		case !examined:
			out = append(out, r)
		case r.single():
			out = append(out, raiseOne(r, in, cut))
		default:
			out = split(out, r, in, cut)
		}
	}
	return out
}

// raiseOne raises the floor of a single-priority range that the claim
// examined and returned in (possibly none) from.
func raiseOne(r priorityRange, in []claimedKey, cut time.Time) priorityRange {
	to := claimedKey{priority: r.lo, runAfter: cut}
	if len(in) > 0 && compareInRange(in[0].runAfter, in[0].id, to) < 0 {
		to = in[0]
	}
	if compareInRange(r.runAfter, r.id, to) < 0 {
		r.runAfter, r.id = to.runAfter, to.id
	}
	return r
}

// split appends gap r, examined by the claim, to out: as it is when the
// claim returned none of its jobs, otherwise as single-priority ranges for
// the priorities returned (floors raised as raiseOne does) and gaps
// between them.
func split(out []priorityRange, r priorityRange, in []claimedKey, cut time.Time) []priorityRange {
	lo := r.lo
	for len(in) > 0 {
		p := in[0].priority
		n := 1
		for n < len(in) && in[n].priority == p {
			n++
		}
		if p > lo {
			out = append(out, priorityRange{lo: lo, hi: p - 1})
		}
		out = append(out, raiseOne(priorityRange{lo: p, hi: p}, in[:n], cut))
		in = in[n:]
		if p == math.MaxInt32 {
			return out
		}
		lo = p + 1
	}
	if lo <= r.hi {
		out = append(out, priorityRange{lo: lo, hi: r.hi})
	}
	return out
}

// rangeOf returns the index of the range holding priority p.
func rangeOf(ranges []priorityRange, p int32) int {
	for i, r := range ranges {
		if p >= r.lo && p <= r.hi {
			return i
		}
	}
	return len(ranges) - 1
}

// lower lowers the floors of every claim that could claim an inserted job
// to the job's place, when it is below: the store made it pending behind a
// floor (a RunAfter in the past, a transaction older than floorMargin).
func (f *claimFloors) lower(inserted ...*storage.JobInsertResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.claims) == 0 {
		return // a store that only submits
	}
	for _, res := range inserted {
		if res == nil || res.Job == nil || res.Job.State != storage.StatePending {
			continue
		}
		job := res.Job
		k := claimedKey{priority: int32(job.Priority), runAfter: job.RunAfter, id: job.ID}
		for _, c := range f.claims {
			if c.queue != job.Queue || !slices.Contains(c.kinds, job.Kind) {
				continue
			}
			r := &c.ranges[rangeOf(c.ranges, k.priority)]
			if r.single() && compareInRange(r.runAfter, r.id, k) > 0 {
				r.runAfter, r.id = k.runAfter, k.id
				c.gen++
			}
		}
	}
}

// reset lowers every floor to the front: jobs were made pending where the
// store cannot tell (a retry of many jobs).
func (f *claimFloors) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.claims {
		c.front()
	}
}

// front lowers every floor of the claim to the front of its range, and
// keeps a claim that started before from raising them again.
func (c *claimFloor) front() {
	for i, r := range c.ranges {
		c.ranges[i] = priorityRange{lo: r.lo, hi: r.hi}
	}
	c.rescueFrom = time.Time{}
	c.gen++
}

// probed lowers the floors to what a probe found behind them: first, the
// claim-order key of the first claimable job of each single-priority range
// (zero priority and id where there is none); expired, the earliest lease
// it could rescue (zero when none). took is how long the probe took.
func (f *claimFloors) probed(c *claimFloor, first []claimedKey, expired time.Time, took time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.probing, c.probeEvery = false, probeEvery(took)
	for _, k := range first {
		if k.id == 0 {
			continue
		}
		r := &c.ranges[rangeOf(c.ranges, k.priority)]
		if r.single() && compareInRange(r.runAfter, r.id, k) > 0 {
			r.runAfter, r.id = k.runAfter, k.id
			c.gen++
		}
	}
	if !expired.IsZero() && expired.Before(c.rescueFrom) {
		c.rescueFrom = expired
		c.gen++
	}
}

// singles returns the priorities of the plan's single-priority ranges.
func (pl *claimPlan) singles() []int32 {
	var ps []int32
	for _, r := range pl.ranges {
		if r.single() {
			ps = append(ps, r.lo)
		}
	}
	return ps
}
