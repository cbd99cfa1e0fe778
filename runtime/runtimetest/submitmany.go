package runtimetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// keyed is work deduplicated by the input's Text: the unique key a
// generated kind derives from its fields.
var keyed = work.WithUniqueKey(func(a Args) string { return a.Text })

// testSubmitMany: a typed client's SubmitMany stores the batch in one
// storage call and returns typed handles in input order, each job's own;
// the attached server is woken (its poll would take a minute) and runs
// them all; every stored job gets an EventSubmitted.
func testSubmitMany(t *testing.T, newStore NewStore) {
	e := newLoopEnv(t, newStore, runtime.Config{PollInterval: slowPoll}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			return Result{N: 10 * j.Args.N}, nil
		})
	})
	e.start()
	evs := events(t, e.client)
	idleAfterFirstClaim(t, e)
	ctx := ctxT(t)
	c := runtime.NewKindClient(work, e.client)
	args := make([]Args, 20)
	for i := range args {
		args[i] = Args{N: i}
	}
	before := e.store.inserts.Load()
	hs := must(c.SubmitMany(ctx, args, &runtime.SubmitOpts{Priority: new(3)}))
	if n := e.store.inserts.Load() - before; n != 1 {
		t.Errorf("SubmitMany made %d insert calls, want 1", n)
	}
	if len(hs) != len(args) {
		t.Fatalf("SubmitMany of %d jobs returned %d handles", len(args), len(hs))
	}
	ids := map[runtime.ID[Args]]bool{}
	for i, h := range hs {
		if h.Duplicate || ids[h.ID] {
			t.Fatalf("handle %d: %+v, want a new job of its own", i, h)
		}
		ids[h.ID] = true
		if res, err := h.Wait(ctx); err != nil || res.N != 10*i {
			t.Errorf("handle %d: Wait = %+v, %v; want N %d", i, res, err, 10*i)
		}
		info := must(c.Get(ctx, h.ID))
		if info.Args.N != i || info.Job.Priority != 3 {
			t.Errorf("handle %d: stored args %+v, priority %d; want N %d, priority 3", i, info.Args, info.Job.Priority, i)
		}
	}
	for _, h := range hs {
		waitEvent(t, evs, int64(h.ID), runtime.EventSubmitted)
	}
	if hs, err := c.SubmitMany(ctx, nil, nil); err != nil || len(hs) != 0 {
		t.Errorf("SubmitMany of nothing = %d handles, %v; want none", len(hs), err)
	}
}

// testSubmitManyUnique: within SubmitMany a unique key is honoured per
// job: an element whose key an active job holds, or an earlier element of
// the batch, is not stored, and its handle refers to the holder with
// Duplicate set; elements without a key are all stored.
func testSubmitManyUnique(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			return Result{N: j.Args.N}, nil
		})
	})
	ctx := ctxT(t)
	c := runtime.NewKindClient(keyed, e.client)
	held := must(c.Submit(ctx, Args{N: 100, Text: "a"}, nil))
	hs := must(c.SubmitMany(ctx, []Args{{N: 0, Text: "a"}, {N: 1, Text: "b"}, {N: 2, Text: "b"}, {N: 3, Text: "c"}, {N: 4}, {N: 5}}, nil))
	wantDup := []bool{true, false, true, false, false, false}
	for i, h := range hs {
		if h.Duplicate != wantDup[i] {
			t.Errorf("handle %d: Duplicate = %v, want %v", i, h.Duplicate, wantDup[i])
		}
	}
	if hs[0].ID != held.ID {
		t.Errorf("handle 0: ID %d, want the active holder %d", hs[0].ID, held.ID)
	}
	if hs[2].ID != hs[1].ID {
		t.Errorf("handle 2: ID %d, want the batch's earlier holder %d", hs[2].ID, hs[1].ID)
	}
	if n := len(must(e.store.Storage.JobList(ctx, &storage.JobListParams{}))); n != 5 {
		t.Errorf("%d jobs stored, want 5", n)
	}
	e.start()
	wantN := []int{100, 1, 1, 3, 4, 5}
	for i, h := range hs {
		if res, err := h.Wait(ctx); err != nil || res.N != wantN[i] {
			t.Errorf("handle %d: Wait = %+v, %v; want N %d", i, res, err, wantN[i])
		}
	}
}

// testSubmitManyInvalid: every element of a batch is checked before
// anything is written: one that cannot be submitted fails the call with a
// *BatchError naming its index, and no job of the batch is stored. Options
// that no job could have fail it without an index.
func testSubmitManyInvalid(t *testing.T, newStore NewStore) {
	const limit = 4 * storage.MaxUniqueKeyLen
	e := newEnv(t, newStore, runtime.Config{MaxPayloadBytes: limit}, func(s *runtime.Server) { register(t, s, work, noop) })
	e.start()
	ctx := ctxT(t)
	c := runtime.NewKindClient(keyed, e.client)
	for _, tc := range []struct {
		name  string
		args  []Args
		opts  *runtime.SubmitOpts
		index int // -1: no *BatchError
		want  error
	}{
		{"payload over the limit", []Args{{N: 0}, {N: 1}, {Text: strings.Repeat("x", limit)}, {N: 3}}, nil, 2, runtime.ErrPayloadTooLarge},
		{"unique key with a NUL byte", []Args{{Text: "fine"}, {Text: "bad\x00key"}}, nil, 1, runtime.ErrInvalidOption},
		{"unique key too long", []Args{{Text: strings.Repeat("k", storage.MaxUniqueKeyLen+1)}}, nil, 0, runtime.ErrInvalidOption},
		{"delay and run-after", []Args{{N: 0}}, &runtime.SubmitOpts{Delay: time.Second, RunAfter: time.Now()}, -1, runtime.ErrInvalidOption},
		{"invalid queue", []Args{{N: 0}}, &runtime.SubmitOpts{Queue: "Bad Queue;"}, -1, runtime.ErrInvalidName},
	} {
		before := e.store.inserts.Load()
		hs, err := c.SubmitMany(ctx, tc.args, tc.opts)
		if !errors.Is(err, tc.want) || hs != nil {
			t.Errorf("%s: %d handles, %v; want none and %v", tc.name, len(hs), err, tc.want)
		}
		var be *runtime.BatchError
		switch ok := errors.As(err, &be); {
		case tc.index < 0 && ok:
			t.Errorf("%s: %v names element %d, want no element", tc.name, err, be.Index)
		case tc.index >= 0 && (!ok || be.Index != tc.index):
			t.Errorf("%s: %v, want a *BatchError of element %d", tc.name, err, tc.index)
		}
		if n := e.store.inserts.Load() - before; n != 0 {
			t.Errorf("%s: %d inserts, want none", tc.name, n)
		}
	}
	if n := len(must(e.store.Storage.JobList(ctx, &storage.JobListParams{}))); n != 0 {
		t.Errorf("%d jobs stored, want none", n)
	}
}
