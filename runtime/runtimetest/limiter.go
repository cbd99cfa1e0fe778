package runtimetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/limit"
)

// failingDone is a limiter whose bookkeeping of finished jobs fails.
type failingDone struct{ limit.Limiter }

func (failingDone) Done(context.Context, time.Time) error { return errTest }

func testLimiterErrorNoLeak(t *testing.T, newStore NewStore) {
	conc := limit.Must(limit.NewConcurrency(2))
	e := newEnv(t, newStore, runtime.Config{Queues: map[string]runtime.QueueConfig{
		runtime.DefaultQueue: {MaxWorkers: 2, Limiter: failingDone{conc}},
	}}, func(s *runtime.Server) { register(t, s, work, noop) })
	if err := e.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The limiter's own count leaks (its Done fails), but the server's
	// slots must not: the first two jobs run, and Stop still drains.
	var handles []*runtime.Handle[Result]
	for i := range 2 {
		handles = append(handles, must(work.Submit(ctxT(t), e.client, Args{N: i}, nil)))
	}
	for _, h := range handles {
		must(h.Wait(ctxT(t)))
	}
	if err := e.srv.Stop(ctxT(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func testLimiterPermitsComeBack(t *testing.T, newStore NewStore) {
	conc := limit.Must(limit.NewConcurrency(2))
	started := make(chan int64, 8)
	e := newEnv(t, newStore, runtime.Config{Queues: map[string]runtime.QueueConfig{
		runtime.DefaultQueue: {Limiter: conc},
	}}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			switch j.Args.Text {
			case "fail":
				return Result{}, runtime.Permanent(errTest)
			case "panic":
				panic("handler panic")
			case "block":
				<-ctx.Done()
				return Result{}, context.Cause(ctx)
			}
			return Result{}, nil
		})
	})
	if err := e.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	inUseZero := func(what string) {
		t.Helper()
		eventually(t, "permits back after "+what, func() bool { return conc.InUse() == 0 })
	}
	for _, text := range []string{"ok", "fail", "panic"} {
		h := must(work.Submit(ctxT(t), e.client, Args{Text: text}, &runtime.SubmitOpts{MaxAttempts: new(1)}))
		h.Wait(ctxT(t))
		inUseZero(text)
	}
	h := must(work.Submit(ctxT(t), e.client, Args{Text: "block"}, nil))
	recv(t, started, "blocking job") // drain earlier starts first
	for len(started) > 0 {
		<-started
	}
	if err := h.Abort(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrAborted) {
		t.Fatalf("Wait: %v", err)
	}
	inUseZero("abort")
	must(work.Submit(ctxT(t), e.client, Args{Text: "block"}, nil))
	eventually(t, "blocking job to hold a permit", func() bool { return conc.InUse() == 1 })
	if err := e.srv.StopAndCancel(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	inUseZero("shutdown")
}
