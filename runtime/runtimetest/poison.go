package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// testPoisonMessage: a handler error no backend could store as it is (a
// NUL byte, invalid UTF-8, 100 KiB) among many jobs finishing together is
// stored made storable, with its real content, and the jobs beside it
// complete exactly once.
func testPoisonMessage(t *testing.T, newStore NewStore) {
	const (
		n   = 20 // good jobs
		bad = n  // Args.N of the poisoned job
	)
	msg := "bad\x00nul\xffend " + strings.Repeat("x", 100<<10)
	var (
		mu      sync.Mutex
		runs    = make(map[int]int)
		started = make(chan struct{}, 4*(n+1))
		release = make(chan struct{})
	)
	// A short lease: an outcome that is not written shows as a re-run soon.
	e := newEnv(t, newStore, runtime.Config{LeaseDuration: 2 * time.Second}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			mu.Lock()
			runs[j.Args.N]++
			mu.Unlock()
			started <- struct{}{}
			<-release
			if j.Args.N == bad {
				return Result{}, runtime.Permanent(errors.New(msg))
			}
			return Result{N: j.Args.N}, nil
		})
	})
	e.start()
	ctx := ctxT(t)
	hs := make([]*runtime.Handle[Result], n+1)
	for i := range hs {
		hs[i] = must(work.Submit(ctx, e.client, Args{N: i}, nil))
	}
	for range hs {
		recv(t, started, "a job to start")
	}
	close(release) // every job returns at once, so their outcomes share writes
	for i, h := range hs[:n] {
		if out, err := h.Wait(ctx); err != nil || out.N != i {
			t.Errorf("good job %d: output %+v, error %v", i, out, err)
		}
	}
	_, err := hs[bad].Wait(ctx)
	if !errors.Is(err, runtime.ErrFailed) {
		t.Fatalf("poisoned job: %v, want ErrFailed", err)
	}
	stored := getJob(t, e, hs[bad].ID).ErrorMessage
	for what, ok := range map[string]bool{
		"valid UTF-8":                 utf8.ValidString(stored),
		"without NUL bytes":           !strings.Contains(stored, "\x00"),
		"at most 16 KiB":              len(stored) <= 16<<10,
		"the message, made storable":  strings.HasPrefix(stored, "bad\uFFFDnul\uFFFDend xxx"),
		"marked as cut":               strings.HasSuffix(stored, "x... (truncated)"),
		"as WaitFor reports it":       waitJobError(t, err).Message == stored,
		"with the code of the return": getJob(t, e, hs[bad].ID).ErrorCode == runtime.CodePermanent,
	} {
		if !ok {
			t.Errorf("stored message of %d bytes is not %s: %q...", len(stored), what, stored[:min(len(stored), 40)])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range hs {
		if runs[i] != 1 {
			t.Errorf("job %d ran %d times, want once", i, runs[i])
		}
	}
}

// testPoisonKey: among concurrent submits, one whose unique key cannot be
// stored fails with a typed error and writes nothing; the others, which
// may share its insert statement, are stored.
func testPoisonKey(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) { register(t, s, work, noop) })
	ctx := ctxT(t) // the server is not started: the jobs stay pending
	const n, poisoned = 39, 13
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		opts := &runtime.SubmitOpts{UniqueKey: fmt.Sprintf("key-%d", i), RunAfter: time.Now().Add(time.Hour)}
		if i == poisoned {
			opts.UniqueKey = "key\x00poisoned"
		}
		wg.Go(func() { _, errs[i] = work.Submit(ctx, e.client, Args{N: i}, opts) })
	}
	wg.Wait()
	for i, err := range errs {
		if i != poisoned && err != nil {
			t.Errorf("submit %d beside a poisoned one: %v", i, err)
		}
	}
	checkOptionError(t, "a NUL byte in SubmitOpts.UniqueKey", errs[poisoned])
	// A key the kind derives from the input is checked the same way.
	derived := work.WithUniqueKey(func(a Args) string { return a.Text })
	_, err := derived.Submit(ctx, e.client, Args{Text: "key\xff"}, nil)
	checkOptionError(t, "invalid UTF-8 in the derived unique key", err)
	jobs := must(e.store.Storage.JobList(ctx, &storage.JobListParams{Limit: 1000}))
	if len(jobs) != n-1 {
		t.Errorf("%d jobs stored, want %d", len(jobs), n-1)
	}
}

// checkOptionError fails the test unless err is the typed error of an
// invalid unique key.
func checkOptionError(t *testing.T, what string, err error) {
	t.Helper()
	var oe *runtime.OptionError
	if !errors.Is(err, runtime.ErrInvalidOption) || !errors.As(err, &oe) || oe.Field != "UniqueKey" {
		t.Errorf("submit with %s: %v, want a *runtime.OptionError for UniqueKey matching ErrInvalidOption", what, err)
	}
}
