package memory

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
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
