package runtimetest

import (
	"context"
	"errors"
	"testing"

	"github.com/jobgen/jobgen/runtime"
)

// testWaitForWrongKind waits for a job through the typed client of another
// kind, attached and detached, while the job runs and once it finished:
// each wait fails at once with ErrWrongKind instead of returning a zero
// result. The ids are converted from plain ones, as an id read from a
// request is, so the compiler cannot catch the mix-up.
func testWaitForWrongKind(t *testing.T, newStore NewStore) {
	started, proceed := make(chan struct{}, 2), make(chan struct{})
	hold := func(ctx context.Context) {
		started <- struct{}{}
		select {
		case <-proceed:
		case <-ctx.Done():
		}
	}
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			hold(ctx)
			return Result{N: 1}, nil
		})
		register(t, s, other, func(ctx context.Context, j *runtime.Job[Args]) (runtime.NoOutput, error) {
			hold(ctx)
			return runtime.NoOutput{}, nil
		})
	})
	e.start()
	detached := must(runtime.NewClient(e.store, runtime.ClientConfig{}))
	t.Cleanup(func() { detached.Close() })
	ctx := ctxT(t)
	workJob := must(work.Submit(ctx, e.client, Args{}, nil))
	otherJob := must(other.Submit(ctx, e.client, Args{}, nil))
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			name   string
			client *runtime.Client
		}{{"attached", e.client}, {"detached", detached}} {
			for _, w := range []struct {
				name string
				wait func() error
			}{
				{"KindClient.WaitFor", func() error {
					_, err := runtime.NewKindClient(work, c.client).WaitFor(ctx, runtime.ID[Args](otherJob.ID))
					return err
				}},
				{"NoOutputClient.WaitFor", func() error {
					return runtime.NewNoOutputClient(other, c.client).WaitFor(ctx, runtime.ID[Args](workJob.ID))
				}},
				{"Kind.WaitFor", func() error {
					_, err := work.WaitFor(ctx, c.client, otherJob.ID)
					return err
				}},
			} {
				if err := w.wait(); !errors.Is(err, runtime.ErrWrongKind) {
					t.Errorf("%s, %s %s: %v, want ErrWrongKind", when, c.name, w.name, err)
				}
			}
		}
	}
	recv(t, started, "first start")
	recv(t, started, "second start")
	check("running")
	close(proceed)
	if res := must(runtime.NewKindClient(work, detached).WaitFor(ctx, runtime.ID[Args](workJob.ID))); res.N != 1 {
		t.Fatalf("result %d, want 1", res.N)
	}
	if err := runtime.NewNoOutputClient(other, e.client).WaitFor(ctx, runtime.ID[Args](otherJob.ID)); err != nil {
		t.Fatalf("WaitFor of its own kind: %v", err)
	}
	check("finished")
}
