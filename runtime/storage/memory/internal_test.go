package memory

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func TestDeque(t *testing.T) {
	t.Parallel()
	var d deque[int]
	var want []int
	r := rand.New(rand.NewPCG(1, 2))
	next := 0
	for range 20000 {
		if r.IntN(3) > 0 || len(want) == 0 {
			d.push(next)
			want = append(want, next)
			next++
		} else {
			if got := d.pop(); got != want[0] {
				t.Fatalf("pop = %d, want %d", got, want[0])
			}
			want = want[1:]
		}
		if d.len() != len(want) {
			t.Fatalf("len = %d, want %d", d.len(), len(want))
		}
		if len(want) > 0 && (*d.front() != want[0] || *d.back() != want[len(want)-1]) {
			t.Fatalf("front, back = %d, %d; want %d, %d", *d.front(), *d.back(), want[0], want[len(want)-1])
		}
	}
	for len(want) > 0 {
		if got := d.pop(); got != want[0] {
			t.Fatalf("draining: pop = %d, want %d", got, want[0])
		}
		want = want[1:]
	}
	if len(d.blocks) > 1 {
		t.Errorf("an empty deque keeps %d blocks, want at most 1", len(d.blocks))
	}
}

func TestReadyQueue(t *testing.T) {
	t.Parallel()
	var q readyQueue
	var want []readyEntry
	r := rand.New(rand.NewPCG(3, 4))
	id := int64(0)
	at := int64(0)
	for range 20000 {
		if r.IntN(3) > 0 || len(want) == 0 {
			// Mostly in order, sometimes not: a higher priority, an older
			// RunAfter or an older ID.
			id++
			e := readyEntry{at: at, id: id}
			switch r.IntN(10) {
			case 0:
				e.prio = -r.IntN(3)
			case 1:
				e.at -= int64(r.IntN(1000))
			case 2:
				e.id = -id
			default:
				at += int64(r.IntN(2))
			}
			q.push(e)
			i, _ := slices.BinarySearchFunc(want, e, func(a, b readyEntry) int {
				return cmp.Or(cmp.Compare(a.prio, b.prio), cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id))
			})
			want = slices.Insert(want, i, e)
			continue
		}
		if top := q.top(); top == nil || *top != want[0] {
			t.Fatalf("top = %+v, want %+v", top, want[0])
		}
		if got := q.pop(); got != want[0] {
			t.Fatalf("pop = %+v, want %+v", got, want[0])
		}
		want = want[1:]
		if q.len() != len(want) {
			t.Fatalf("len = %d, want %d", q.len(), len(want))
		}
	}
}

func TestIndex(t *testing.T) {
	t.Parallel()
	var x index
	want := make(map[int64]*job)
	r := rand.New(rand.NewPCG(5, 6))
	var lastID int64
	check := func() {
		t.Helper()
		for id := lastID - 3*pageSize; id <= lastID+2; id++ {
			if got := x.get(id); got != want[id] {
				t.Fatalf("get(%d) = %p, want %p", id, got, want[id])
			}
		}
		var ids []int64
		for id := range want {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		after := int64(0)
		if len(ids) > 0 {
			after = ids[len(ids)/2] - 1
		}
		var got []int64
		x.each(after, func(j *job) bool { got = append(got, j.id); return true })
		i, _ := slices.BinarySearch(ids, after+1)
		if !slices.Equal(got, ids[i:]) {
			t.Fatalf("each after %d listed %d jobs, want %d", after, len(got), len(ids[i:]))
		}
	}
	for round := range 20 {
		for range r.IntN(3 * pageSize) {
			lastID++
			j := &job{id: lastID}
			x.add(j)
			want[j.id] = j
		}
		for id := range want {
			if r.IntN(10) < 7+round%3 {
				x.del(id, lastID)
				delete(want, id)
			}
		}
		check()
	}
	for id := range want {
		x.del(id, lastID)
		delete(want, id)
	}
	check()
	if len(x.pages) > 1 {
		t.Errorf("an empty index keeps %d pages, want at most the current one", len(x.pages))
	}
}

// TestRandomOps drives a store through random calls, with a clock that
// mostly moves forward and sometimes steps back, and checks after every
// call (every fifth, later on) that the indexes agree with the jobs.
func TestRandomOps(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		randomOps(t, seed, 5000)
	}
}

func randomOps(t *testing.T, seed uint64, steps int) {
	ctx := t.Context()
	s := New()
	defer s.Close()
	r := rand.New(rand.NewPCG(seed, 10))
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	kinds := []string{"a", "b", "c"}
	var held []storage.Lease
	for step := range steps {
		switch d := r.IntN(100); {
		case d < 2:
			now = now.Add(-time.Duration(r.IntN(1000)) * time.Millisecond)
		default:
			now = now.Add(time.Duration(r.IntN(200)) * time.Millisecond)
		}
		var err error
		switch op := r.IntN(10); op {
		case 0, 1, 2:
			p := &storage.JobInsertParams{Kind: kinds[r.IntN(3)], Queue: "q", MaxAttempts: 1 + r.IntN(3), Priority: r.IntN(3), Now: now}
			if r.IntN(3) == 0 {
				p.RunAfter = now.Add(time.Duration(r.IntN(5000)-1000) * time.Millisecond)
			}
			if r.IntN(3) == 0 {
				p.UniqueKey = fmt.Sprint(r.IntN(20))
			}
			_, err = s.JobInsert(ctx, p)
		case 3, 4:
			var res *storage.JobClaimResult
			res, err = s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: kinds[:1+r.IntN(3)], Limit: 1 + r.IntN(5), LeaseDuration: time.Duration(1+r.IntN(3)) * time.Second, Now: now})
			if err == nil {
				for _, j := range res.Jobs {
					held = append(held, storage.Lease{ID: j.ID, Token: j.LeaseToken})
				}
			}
		case 5:
			var ls []storage.Lease
			for _, l := range held {
				if r.IntN(2) == 0 {
					ls = append(ls, l)
				}
			}
			_, err = s.JobHeartbeat(ctx, &storage.JobHeartbeatParams{Leases: ls, LeaseDuration: time.Second, Now: now})
		case 6, 7:
			if len(held) == 0 {
				continue
			}
			i := r.IntN(len(held))
			l := held[i]
			held = slices.Delete(held, i, i+1)
			_, err = s.JobFinish(ctx, &storage.JobFinishParams{Now: now, Jobs: []storage.JobFinish{{
				ID: l.ID, LeaseToken: l.Token, Outcome: storage.Outcome(1 + r.IntN(5)),
				RetryDelay: time.Duration(r.IntN(3)) * time.Second, Delete: r.IntN(3) == 0,
			}}})
		case 8:
			_, err = s.JobAbort(ctx, &storage.JobAbortParams{ID: 1 + int64(r.IntN(int(s.lastID)+1)), Now: now})
			if errors.Is(err, storage.ErrNotFound) {
				err = nil
			}
		case 9:
			_, err = s.JobDeleteFinished(ctx, &storage.JobDeleteFinishedParams{State: storage.States[2+r.IntN(3)], FinishedBefore: now.Add(-time.Duration(r.IntN(10)) * time.Second), Limit: 1 + r.IntN(10)})
		}
		if err != nil {
			t.Fatalf("seed %d, step %d: %v", seed, step, err)
		}
		if step < 1000 || step%5 == 0 {
			s.check(t, step)
		}
	}
	s.check(t, steps)
}

// check fails the test when the indexes disagree with the jobs.
func (s *Store) check(t *testing.T, step int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	type entry struct {
		j     *job
		ver   uint32
		where loc
	}
	entries := make(map[entry]bool)
	for _, l := range s.lanes {
		for _, e := range l.ready.heap {
			entries[entry{e.j, e.ver, locReady}] = true
		}
		for _, b := range l.ready.fifo.blocks {
			for _, e := range b {
				entries[entry{e.j, e.ver, locReady}] = true
			}
		}
		for _, e := range l.deferred {
			entries[entry{e.j, e.ver, locDeferred}] = true
		}
	}
	live := func(j *job, where loc) bool { return entries[entry{j, j.ver, where}] }
	s.jobs.each(0, func(j *job) bool {
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("step %d: job %d (state %v, loc %d): %s", step, j.id, stateNames[j.state], j.loc, fmt.Sprintf(format, args...))
		}
		switch j.state {
		case statePending:
			if (j.loc != locReady && j.loc != locDeferred) || !live(j, j.loc) {
				fail("pending job not in its lane's ready or deferred index")
			}
		case stateRunning:
			switch j.loc {
			case locRunning:
				if j.runIdx < 0 || j.runIdx >= len(j.lane.running) || j.lane.running[j.runIdx] != j {
					fail("running index %d wrong", j.runIdx)
				}
			case locReady:
				if !live(j, locReady) {
					fail("rescue candidate not in the ready index")
				}
			default:
				fail("running job in no index")
			}
			if j.token == 0 {
				fail("running without a token")
			}
		default:
			if j.loc != locFinished || j.token != 0 {
				fail("finished job kept outside the finished index, or with a token")
			}
		}
		if j.uniqueKey != "" {
			holder := s.unique[uniqueKey{j.lane.kind, j.uniqueKey}]
			if active := j.state == statePending || j.state == stateRunning; active != (holder == j) {
				fail("unique key %q held by job %v", j.uniqueKey, holder)
			}
		}
		return true
	})
	for _, l := range s.lanes {
		for i, j := range l.running {
			if i > 0 && runLess(j, l.running[(i-1)/2]) {
				t.Fatalf("step %d: running heap out of order at %d", step, i)
			}
			if j.state != stateRunning || j.loc != locRunning || s.jobs.get(j.id) != j {
				t.Fatalf("step %d: running heap holds job %d in state %v", step, j.id, stateNames[j.state])
			}
		}
	}
	kept := 0
	for i := range s.finished {
		kept += s.finished[i].len()
	}
	terminal := 0
	s.jobs.each(0, func(j *job) bool {
		if j.state >= stateCompleted {
			terminal++
		}
		return true
	})
	if kept != terminal {
		t.Fatalf("step %d: finished indexes hold %d jobs, %d are terminal", step, kept, terminal)
	}
}
