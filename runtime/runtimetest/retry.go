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

func waitJobError(t *testing.T, err error) *runtime.JobError {
	t.Helper()
	var je *runtime.JobError
	if !errors.As(err, &je) {
		t.Fatalf("error %v is not a *runtime.JobError", err)
	}
	return je
}

func testRetriesThenFails(t *testing.T, newStore NewStore) {
	attempts := make(chan int, 8)
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			attempts <- j.Attempt
			return Result{}, errTest
		})
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil)) // the kind allows 3 attempts
	_, err := h.Wait(ctxT(t))
	if !errors.Is(err, runtime.ErrFailed) {
		t.Fatalf("Wait: %v, want ErrFailed", err)
	}
	je := waitJobError(t, err)
	if je.Attempt != 3 || je.Message != errTest.Error() || je.ID != h.ID || je.Kind != work.Name() {
		t.Fatalf("job error %+v, want attempt 3 with the handler's message", je)
	}
	for want := 1; want <= 3; want++ {
		if got := recv(t, attempts, "attempt"); got != want {
			t.Fatalf("attempt %d, want %d", got, want)
		}
	}
	// Per-submit attempts override the kind's.
	h = must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{MaxAttempts: new(1)}))
	if _, err := h.Wait(ctxT(t)); waitJobError(t, err).Attempt != 1 {
		t.Fatalf("with MaxAttempts 1: %v", err)
	}
}

func testPermanent(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			return Result{}, runtime.Permanent(errTest)
		})
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	_, err := h.Wait(ctxT(t))
	if je := waitJobError(t, err); je.Attempt != 1 || je.Code != runtime.CodePermanent {
		t.Fatalf("job error %+v, want a permanent failure on attempt 1", je)
	}
}

func testPanic(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			if j.Attempt == 1 {
				panicInHandler()
			}
			return Result{N: j.Attempt}, nil
		})
	})
	e.start()
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	ev := waitEvent(t, evs, h.ID, runtime.EventRetried)
	var pe *runtime.PanicError
	if !errors.As(ev.Err, &pe) || !strings.Contains(string(pe.Stack), "panicInHandler") {
		t.Fatalf("retry error %v does not keep the panic's stack", ev.Err)
	}
	if res := must(h.Wait(ctxT(t))); res.N != 2 {
		t.Fatalf("completed on attempt %d, want 2", res.N)
	}
	// The stored message says what happened, stack included.
	h = must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{MaxAttempts: new(1)}))
	_, err := h.Wait(ctxT(t))
	if je := waitJobError(t, err); je.Code != runtime.CodePanic || !strings.Contains(je.Message, "panicInHandler") {
		t.Fatalf("stored error %+v, want the panic with its stack", je)
	}
}

func panicInHandler() { panic("boom") }

func testTimeout(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			if j.Attempt == 1 {
				<-ctx.Done()
				return Result{}, ctx.Err()
			}
			return Result{N: j.Attempt}, nil
		})
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{Timeout: new(20 * time.Millisecond)}))
	if res := must(h.Wait(ctxT(t))); res.N != 2 {
		t.Fatalf("completed on attempt %d, want 2 after a timeout", res.N)
	}
	h = must(work.Submit(ctxT(t), e.client, Args{N: 1}, &runtime.SubmitOpts{Timeout: new(20 * time.Millisecond), MaxAttempts: new(1)}))
	_, err := h.Wait(ctxT(t))
	if je := waitJobError(t, err); je.Code != runtime.CodeTimeout {
		t.Fatalf("job error %+v, want code %q", je, runtime.CodeTimeout)
	}
}

func testDeadline(t *testing.T, newStore NewStore) {
	ran := make(chan int64, 1)
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			ran <- j.ID
			return Result{}, nil
		})
	})
	e.start()
	past := time.Now().Add(-time.Second)
	h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{Deadline: past}))
	_, err := h.Wait(ctxT(t))
	if je := waitJobError(t, err); je.Code != runtime.CodeDeadline {
		t.Fatalf("job error %+v, want code %q", je, runtime.CodeDeadline)
	}
	select {
	case id := <-ran:
		t.Fatalf("job %d ran after its deadline", id)
	default:
	}
	if got := getJob(t, e, h.ID); got.State != storage.StateFailed {
		t.Fatalf("state %s, want failed", got.State)
	}
}
