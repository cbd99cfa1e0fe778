package runtimetest

import (
	"context"
	"errors"
	"maps"
	"sync/atomic"
	"testing"

	"github.com/jobgen/jobgen/runtime"
)

// testSubmitManyMiddleware: SubmitMany runs every job through the submit
// middleware, which sees each job's unique key and adds the metadata it
// stores, and still stores the batch in one call; a middleware refusing one
// job fails the batch with a *BatchError naming it, and nothing is stored.
func testSubmitManyMiddleware(t *testing.T, newStore NewStore) {
	errRefused := errors.New("refused by policy")
	var calls atomic.Int64
	mw := func(ctx context.Context, info *runtime.SubmitInfo, next func(context.Context) (runtime.SubmitResult, error)) (runtime.SubmitResult, error) {
		calls.Add(1)
		if info.UniqueKey == "refuse" {
			return runtime.SubmitResult{}, errRefused
		}
		info.Metadata["key"] = info.UniqueKey
		res, err := next(ctx)
		if err == nil && res.ID <= 0 {
			t.Errorf("next of job %q returned id %d", info.UniqueKey, res.ID)
		}
		return res, err
	}
	e := newEnv(t, newStore, runtime.Config{SubmitMiddleware: []runtime.SubmitMiddleware{mw}}, func(s *runtime.Server) {
		register(t, s, keyed, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) { return Result{}, nil })
	})
	e.start()
	c := runtime.NewKindClient(keyed, e.client)
	texts := []string{"a", "b", "c", "d", "e"}
	args := make([]Args, len(texts))
	for i, s := range texts {
		args[i] = Args{Text: s}
	}
	hs := must(c.SubmitMany(ctxT(t), args, &runtime.SubmitOpts{Metadata: map[string]string{"batch": "1"}}))
	if n := calls.Load(); n != int64(len(texts)) {
		t.Errorf("the middleware ran %d times for a batch of %d", n, len(texts))
	}
	if n := e.store.inserts.Load(); n != 1 {
		t.Errorf("SubmitMany through middleware made %d insert calls, want 1", n)
	}
	for i, h := range hs {
		want := map[string]string{"batch": "1", "key": texts[i]}
		if got := getJob(t, e, int64(h.ID)).Metadata; !maps.Equal(got, want) {
			t.Errorf("job %d: stored metadata %v, want %v", i, got, want)
		}
	}

	for i := range args {
		args[i].Text += "2" // keys no active job holds
	}
	args[3].Text = "refuse"
	_, err := c.SubmitMany(ctxT(t), args, nil)
	var be *runtime.BatchError
	if !errors.As(err, &be) || be.Index != 3 || !errors.Is(err, errRefused) {
		t.Fatalf("SubmitMany with job 3 refused: %v, want a *BatchError of index 3 with the middleware's error", err)
	}
	if n := e.store.inserts.Load(); n != 1 {
		t.Errorf("%d insert calls after the refused batch, want still 1", n)
	}
}
