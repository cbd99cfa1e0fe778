package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

func testUndecodable(t *testing.T, newStore NewStore) {
	ran := make(chan int64, 1)
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			ran <- j.ID
			return Result{}, nil
		})
	})
	e.start()
	// A row written by something else, with an input of the wrong shape.
	res := must(e.store.JobInsert(ctxT(t), &storage.JobInsertParams{
		Kind: work.Name(), Queue: runtime.DefaultQueue, Input: []byte(`{"n":"not a number"}`), MaxAttempts: 5,
	}))
	e.srv.Client() // the insert bypassed the client, so no wake-up: the poll finds it
	_, err := work.WaitFor(ctxT(t), e.client, res.Job.ID)
	je := waitJobError(t, err)
	if je.Attempt != 1 || je.Code != runtime.CodeDecode {
		t.Fatalf("job error %+v, want one attempt with code %q", je, runtime.CodeDecode)
	}
	for _, want := range []string{work.Name(), fmt.Sprint(res.Job.ID), "cannot unmarshal"} {
		if !strings.Contains(je.Message, want) {
			t.Errorf("stored message %q does not name %q", je.Message, want)
		}
	}
	select {
	case <-ran:
		t.Fatal("the handler ran with an undecodable input")
	default:
	}
}

func testBadInput(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{MaxPayloadBytes: 1024}, func(s *runtime.Server) { register(t, s, work, noop) })
	e.start()
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		args Args
		opts *runtime.SubmitOpts
		want error
	}{
		{"payload over the limit", Args{Text: strings.Repeat("x", 2000)}, nil, runtime.ErrPayloadTooLarge},
		{"invalid queue", Args{}, &runtime.SubmitOpts{Queue: "Bad Queue;"}, runtime.ErrInvalidName},
		{"long queue", Args{}, &runtime.SubmitOpts{Queue: strings.Repeat("q", 65)}, runtime.ErrInvalidName},
		{"negative attempts", Args{}, &runtime.SubmitOpts{MaxAttempts: new(-1)}, runtime.ErrInvalidOption},
		{"absurd attempts", Args{}, &runtime.SubmitOpts{MaxAttempts: new(1 << 30)}, runtime.ErrInvalidOption},
		{"negative timeout", Args{}, &runtime.SubmitOpts{Timeout: new(-time.Second)}, runtime.ErrInvalidOption},
		{"absurd priority", Args{}, &runtime.SubmitOpts{Priority: new(1 << 40)}, runtime.ErrInvalidOption},
		{"deadline before run-after", Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour), Deadline: time.Now()}, runtime.ErrInvalidOption},
	} {
		before := e.store.inserts.Load()
		if _, err := work.Submit(ctx, e.client, tc.args, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if n := e.store.inserts.Load() - before; n != 0 {
			t.Errorf("%s: %d inserts, want none", tc.name, n)
		}
	}
	// At the limit is accepted.
	if _, err := work.Submit(ctx, e.client, Args{Text: strings.Repeat("x", 1024-len(`{"n":0,"text":""}`))}, nil); err != nil {
		t.Errorf("payload at the limit: %v", err)
	}
	for _, id := range []int64{0, -1, 1 << 50} {
		if _, err := work.WaitFor(ctx, e.client, id); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("WaitFor(%d): %v, want ErrNotFound", id, err)
		}
		if _, err := e.client.Get(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Get(%d): %v, want ErrNotFound", id, err)
		}
	}
	h := must(other.Submit(ctx, e.client, Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
	if _, err := work.Get(ctx, e.client, h.ID); !errors.Is(err, runtime.ErrWrongKind) {
		t.Errorf("Get through the wrong kind: %v, want ErrWrongKind", err)
	}
}

func testUnique(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) { register(t, s, work, noop) })
	e.start()
	ctx := ctxT(t)
	opts := &runtime.SubmitOpts{UniqueKey: "k1", RunAfter: time.Now().Add(time.Hour)}
	first := must(work.Submit(ctx, e.client, Args{N: 1}, opts))
	second := must(work.Submit(ctx, e.client, Args{N: 2}, opts))
	if first.Duplicate || !second.Duplicate || second.ID != first.ID {
		t.Fatalf("first %+v second %+v, want the second to return the first as a duplicate", first, second)
	}
	if err := first.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	third := must(work.Submit(ctx, e.client, Args{N: 3}, opts))
	if third.Duplicate || third.ID == first.ID {
		t.Fatalf("after the first finished, the key must be free: %+v", third)
	}
}
