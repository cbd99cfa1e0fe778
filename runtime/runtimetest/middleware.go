package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// trail records what middleware did, in order.
type trail struct {
	mu    sync.Mutex
	steps []string
}

func (tr *trail) add(format string, args ...any) {
	tr.mu.Lock()
	tr.steps = append(tr.steps, fmt.Sprintf(format, args...))
	tr.mu.Unlock()
}

// take returns the steps so far and forgets them.
func (tr *trail) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s := tr.steps
	tr.steps = nil
	return s
}

// ctxKey carries a value from middleware to the handler.
type ctxKey struct{}

// testSubmitMiddleware: submit middleware runs in order, the first
// outermost, before anything is written; it sees the resolved options,
// adds metadata the job stores, and passes a ctx down; next returns the
// stored job's id. The caller's map is left alone.
func testSubmitMiddleware(t *testing.T, newStore NewStore) {
	var tr trail
	wrap := func(name string) runtime.SubmitMiddleware {
		return func(ctx context.Context, info *runtime.SubmitInfo, next func(context.Context) (runtime.SubmitResult, error)) (runtime.SubmitResult, error) {
			tr.add("%s: %s %s p%d a%d %v", name, info.Kind, info.Queue, info.Priority, info.MaxAttempts, slices.Sorted(maps.Keys(info.Metadata)))
			info.Metadata[name] = "1"
			res, err := next(context.WithValue(ctx, ctxKey{}, name))
			tr.add("%s: stored %v", name, err == nil)
			if err == nil && res.ID <= 0 {
				t.Errorf("%s: next returned id %d", name, res.ID)
			}
			return res, err
		}
	}
	var store *hookStore
	inserts := func() int64 { return store.inserts.Load() }
	seen := make(chan map[string]string, 1)
	cfg := runtime.Config{SubmitMiddleware: []runtime.SubmitMiddleware{wrap("outer"), wrap("inner")}}
	e := newEnv(t, newStore, cfg, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			seen <- j.Metadata
			return Result{}, nil
		})
	})
	store = e.store
	e.start()
	md := map[string]string{"tag": "x"}
	h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{Queue: "default", Priority: new(7), MaxAttempts: new(2), Metadata: md}))
	want := []string{
		"outer: work default p7 a2 [tag]",
		"inner: work default p7 a2 [outer tag]",
		"inner: stored true",
		"outer: stored true",
	}
	if got := tr.take(); !slices.Equal(got, want) {
		t.Errorf("middleware steps:\n%q\nwant\n%q", got, want)
	}
	must(h.Wait(ctxT(t)))
	wantMD := map[string]string{"tag": "x", "outer": "1", "inner": "1"}
	if got := recv(t, seen, "the handler's metadata"); !maps.Equal(got, wantMD) {
		t.Errorf("handler's metadata %v, want %v", got, wantMD)
	}
	if got := getJob(t, e, h.ID).Metadata; !maps.Equal(got, wantMD) {
		t.Errorf("stored metadata %v, want %v", got, wantMD)
	}
	if !maps.Equal(md, map[string]string{"tag": "x"}) {
		t.Errorf("the caller's metadata map became %v", md)
	}
	// Without SubmitOpts the middleware gets a map to add to.
	h = must(work.Submit(ctxT(t), e.client, Args{}, nil))
	must(h.Wait(ctxT(t)))
	<-seen
	if got := getJob(t, e, h.ID).Metadata; !maps.Equal(got, map[string]string{"outer": "1", "inner": "1"}) {
		t.Errorf("stored metadata of a job submitted without any: %v", got)
	}
	tr.take()
	if n := inserts(); n != 2 {
		t.Fatalf("%d inserts, want 2", n)
	}
}

// testSubmitMiddlewareRefuses: a submit middleware that returns an error,
// or adds metadata out of bounds, fails the submit with its error wrapped,
// and nothing is written; a detached client runs its own middleware, not
// the server's.
func testSubmitMiddlewareRefuses(t *testing.T, newStore NewStore) {
	errRefused := errors.New("refused by policy")
	var refuse, addBad bool
	var mu sync.Mutex
	mw := func(ctx context.Context, info *runtime.SubmitInfo, next func(context.Context) (runtime.SubmitResult, error)) (runtime.SubmitResult, error) {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			return runtime.SubmitResult{}, errRefused
		}
		if addBad {
			info.Metadata["bad key"] = "v"
		}
		return next(ctx)
	}
	e := newEnv(t, newStore, runtime.Config{SubmitMiddleware: []runtime.SubmitMiddleware{mw}}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) { return Result{}, nil })
	})
	e.start()
	set := func(r, b bool) {
		mu.Lock()
		refuse, addBad = r, b
		mu.Unlock()
	}
	set(true, false)
	if _, err := work.Submit(ctxT(t), e.client, Args{}, nil); !errors.Is(err, errRefused) || !strings.HasPrefix(err.Error(), "submit work: ") {
		t.Errorf("refused submit: %v, want the middleware's error wrapped with the kind", err)
	}
	set(false, true)
	var me *runtime.MetadataError
	if _, err := work.Submit(ctxT(t), e.client, Args{}, nil); !errors.As(err, &me) || me.Key != "bad key" || !errors.Is(err, runtime.ErrInvalidOption) {
		t.Errorf("submit whose middleware added a bad key: %v, want a *MetadataError about it", err)
	}
	if n := e.store.inserts.Load(); n != 0 {
		t.Fatalf("%d inserts after refused submits, want none", n)
	}

	var detachedRan bool
	detached := must(runtime.NewClient(e.store, runtime.ClientConfig{Logger: quietLogger, SubmitMiddleware: []runtime.SubmitMiddleware{
		func(ctx context.Context, info *runtime.SubmitInfo, next func(context.Context) (runtime.SubmitResult, error)) (runtime.SubmitResult, error) {
			detachedRan = true
			info.Metadata["via"] = "detached"
			return next(ctx)
		},
	}}))
	t.Cleanup(func() { detached.Close() })
	set(true, false) // the server's middleware would refuse
	h := must(work.Submit(ctxT(t), detached, Args{}, nil))
	if !detachedRan {
		t.Error("the detached client's middleware did not run")
	}
	if got := getJob(t, e, h.ID).Metadata; !maps.Equal(got, map[string]string{"via": "detached"}) {
		t.Errorf("metadata of the detached client's job: %v", got)
	}
}

// testRunMiddleware: run middleware wraps every handler call in order, the
// first outermost, with the job's identity and metadata; the ctx it passes
// reaches the handler; it sees the handler's error, and what it returns
// decides the outcome: wrapped, the handler's outcome stands; every
// middleware learns the outcome the server decided, the innermost first.
func testRunMiddleware(t *testing.T, newStore NewStore) {
	var tr trail
	infos := make(chan runtime.RunInfo, 8)
	outcomes := make(chan string, 8)
	outer := func(ctx context.Context, info *runtime.RunInfo, next func(context.Context) error) error {
		infos <- *info
		info.OnOutcome(func(o runtime.RunOutcome) { outcomes <- "outer " + o.String() })
		tr.add("outer: before")
		err := next(context.WithValue(ctx, ctxKey{}, "from outer"))
		tr.add("outer: after %v", err)
		if err != nil {
			return fmt.Errorf("outer: %w", err)
		}
		return nil
	}
	inner := func(ctx context.Context, info *runtime.RunInfo, next func(context.Context) error) error {
		info.OnOutcome(func(o runtime.RunOutcome) { outcomes <- "inner " + o.String() })
		tr.add("inner: before %v", ctx.Value(ctxKey{}))
		err := next(ctx)
		tr.add("inner: after %v", err)
		var pe *runtime.PanicError
		switch {
		case errors.As(err, &pe):
			tr.add("inner: saw panic %v", pe.Value)
		case err != nil && strings.Contains(err.Error(), "swallow"):
			return nil // the job completes
		case err == nil && info.Attempt == 1 && info.Metadata["fail-first"] == "yes":
			return errTest // a successful run retried
		}
		return err
	}
	e := newEnv(t, newStore, runtime.Config{RunMiddleware: []runtime.RunMiddleware{outer, inner}}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			tr.add("handler %v", ctx.Value(ctxKey{}))
			switch j.Args.Text {
			case "permanent":
				return Result{}, runtime.Permanent(errors.New("permanent"))
			case "swallow":
				return Result{}, errors.New("swallow")
			case "panic":
				panic("boom")
			}
			return Result{N: j.Attempt}, nil
		})
	})
	e.start()
	before := time.Now()
	h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{Metadata: map[string]string{"k": "v"}}))
	if res := must(h.Wait(ctxT(t))); res.N != 1 {
		t.Fatalf("result %d, want 1", res.N)
	}
	want := []string{"outer: before", "inner: before from outer", "handler from outer", "inner: after <nil>", "outer: after <nil>"}
	if got := tr.take(); !slices.Equal(got, want) {
		t.Errorf("steps:\n%q\nwant\n%q", got, want)
	}
	// The server tells every middleware its outcome, the innermost first.
	checkOutcomes := func(what string, want ...string) {
		t.Helper()
		for _, w := range want {
			for _, mw := range []string{"inner ", "outer "} {
				if got := recv(t, outcomes, "the outcome of the "+what); got != mw+w {
					t.Errorf("%s: outcome %q, want %q", what, got, mw+w)
				}
			}
		}
	}
	checkOutcomes("first job", "completed")
	info := recv(t, infos, "the run info")
	if info.ID != h.ID || info.Kind != work.Name() || info.Queue != runtime.DefaultQueue || info.Attempt != 1 || info.MaxAttempts != 3 ||
		!maps.Equal(info.Metadata, map[string]string{"k": "v"}) || info.CreatedAt.Before(before.Add(-time.Minute)) ||
		info.RunAfter.Before(info.CreatedAt.Add(-time.Minute)) || info.RunAfter.After(info.CreatedAt.Add(time.Minute)) {
		t.Errorf("run info %+v", info)
	}

	// Wrapped, a Permanent error still fails the job at once.
	h = must(work.Submit(ctxT(t), e.client, Args{Text: "permanent"}, nil))
	_, err := h.Wait(ctxT(t))
	if je := waitJobError(t, err); je.Code != runtime.CodePermanent || je.Attempt != 1 || !strings.HasPrefix(je.Message, "outer: ") {
		t.Errorf("wrapped permanent error: %+v, want a permanent failure with outer's message", je)
	}
	checkOutcomes("permanent job", "failed")
	// A handler's error turned into nil completes the job.
	h = must(work.Submit(ctxT(t), e.client, Args{Text: "swallow"}, nil))
	if _, err := h.Wait(ctxT(t)); err != nil {
		t.Errorf("job whose error the middleware dropped: %v, want it completed", err)
	}
	checkOutcomes("job whose error the middleware dropped", "completed")
	// A success turned into an error is retried.
	h = must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{Metadata: map[string]string{"fail-first": "yes"}}))
	if res, err := h.Wait(ctxT(t)); err != nil || res.N != 2 {
		t.Errorf("job failed by the middleware on attempt 1: %+v, %v; want completed on attempt 2", res, err)
	}
	checkOutcomes("job failed by the middleware", "retried", "completed")
	// A panic reaches the middleware as a *PanicError.
	tr.take()
	h = must(work.Submit(ctxT(t), e.client, Args{Text: "panic"}, &runtime.SubmitOpts{MaxAttempts: new(1)}))
	_, err = h.Wait(ctxT(t))
	if je := waitJobError(t, err); je.Code != runtime.CodePanic {
		t.Errorf("panicking job: %+v, want code panic", je)
	}
	checkOutcomes("panicking job", "failed")
	if got := tr.take(); !slices.Contains(got, "inner: saw panic boom") {
		t.Errorf("steps of a panicking job: %q, want the middleware to see the panic", got)
	}
}

// testRunMiddlewarePanics: a run middleware's own panic is recovered as
// the handler's is: the attempt fails with code panic and the job retries.
func testRunMiddlewarePanics(t *testing.T, newStore NewStore) {
	mw := func(ctx context.Context, info *runtime.RunInfo, next func(context.Context) error) error {
		if info.Attempt == 1 {
			panic("middleware boom")
		}
		return next(ctx)
	}
	e := newEnv(t, newStore, runtime.Config{RunMiddleware: []runtime.RunMiddleware{mw}}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) { return Result{N: j.Attempt}, nil })
	})
	e.start()
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	ev := waitEvent(t, evs, h.ID, runtime.EventRetried)
	var pe *runtime.PanicError
	if !errors.As(ev.Err, &pe) || pe.Value != "middleware boom" {
		t.Errorf("retry error %v, want the middleware's panic", ev.Err)
	}
	if res := must(h.Wait(ctxT(t))); res.N != 2 {
		t.Errorf("completed on attempt %d, want 2", res.N)
	}
}
