package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

var errDeclined = errors.New("declined")

// testHandlerErrorKeepsIdentity fails a job with Permanent(errDeclined): a
// waiter attached to the server that ran it gets the handler's error
// chain; a detached one, reading storage, gets its code and message.
func testHandlerErrorKeepsIdentity(t *testing.T, newStore NewStore) {
	// The handler returns only once the waiter is registered: Wait
	// registers before its first read of the job.
	waiting := make(chan struct{})
	var once sync.Once
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			select {
			case <-waiting:
			case <-ctx.Done():
			}
			return Result{}, runtime.Permanent(fmt.Errorf("card %d: %w", j.Args.N, errDeclined))
		})
	})
	e.store.setAfterGet(func(*storage.Job) { once.Do(func() { close(waiting) }) })
	e.start()
	ctx := ctxT(t)
	h := must(work.Submit(ctx, e.client, Args{N: 4}, nil))
	_, err := h.Wait(ctx)
	var permanent *runtime.PermanentError
	if !errors.Is(err, runtime.ErrFailed) || !errors.Is(err, errDeclined) || !errors.As(err, &permanent) {
		t.Errorf("attached Wait: %v, want ErrFailed with the handler's Permanent(errDeclined)", err)
	}
	detached := must(runtime.NewClient(e.store, runtime.ClientConfig{}))
	t.Cleanup(func() { detached.Close() })
	_, err = work.WaitFor(ctx, detached, h.ID)
	if !errors.Is(err, runtime.ErrFailed) || errors.Is(err, errDeclined) {
		t.Errorf("detached WaitFor: %v, want ErrFailed without the handler's error", err)
	}
	if je := waitJobError(t, err); je.Code != runtime.CodePermanent || je.Message != "card 4: declined" {
		t.Errorf("detached job error %+v, want code %q and the handler's message", je, runtime.CodePermanent)
	}
}

// testJobErrorMessages checks what a *JobError says: the runs that
// happened (none for a job aborted while pending or failed at its
// deadline), and no empty message after a colon.
func testJobErrorMessages(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			return Result{}, errTest
		})
	})
	e.start()
	ctx := ctxT(t)

	pending := must(work.Submit(ctx, e.client, Args{}, &runtime.SubmitOpts{RunAfter: time.Now().Add(time.Hour)}))
	if err := pending.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	_, err := pending.Wait(ctx)
	if want := fmt.Sprintf("work job %d aborted before it ran", pending.ID); !errors.Is(err, runtime.ErrAborted) || err.Error() != want {
		t.Errorf("aborted pending job: %q, want %q", err, want)
	}

	late := must(work.Submit(ctx, e.client, Args{}, &runtime.SubmitOpts{Deadline: time.Now().Add(-time.Second)}))
	_, err = late.Wait(ctx)
	if want := fmt.Sprintf("work job %d failed before it ran: ", late.ID); !errors.Is(err, runtime.ErrDeadlineExceeded) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("job past its deadline: %q, want ErrDeadlineExceeded and the prefix %q", err, want)
	}

	once := must(work.Submit(ctx, e.client, Args{}, &runtime.SubmitOpts{MaxAttempts: new(1)}))
	_, err = once.Wait(ctx)
	if want := fmt.Sprintf("work job %d failed after 1 attempt: %v", once.ID, errTest); err == nil || err.Error() != want {
		t.Errorf("failed job: %q, want %q", err, want)
	}
	thrice := must(work.Submit(ctx, e.client, Args{}, nil)) // the kind allows 3 attempts
	_, err = thrice.Wait(ctx)
	if want := fmt.Sprintf("work job %d failed after 3 attempts: %v", thrice.ID, errTest); err == nil || err.Error() != want {
		t.Errorf("failed job: %q, want %q", err, want)
	}
}

// testUnknownJobErrorsNameItOnce checks that the errors of calls on an
// unknown id name the job once, whichever layer says it.
func testUnknownJobErrorsNameItOnce(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) { register(t, s, work, noop) })
	e.start()
	ctx := ctxT(t)
	const id = 1 << 40
	detached := must(runtime.NewClient(e.store, runtime.ClientConfig{}))
	t.Cleanup(func() { detached.Close() })
	for _, c := range []*runtime.Client{e.client, detached} {
		for name, call := range map[string]func() error{
			"Get": func() error {
				_, err := c.Get(ctx, id)
				return err
			},
			"Kind.Get": func() error {
				_, err := work.Get(ctx, c, id)
				return err
			},
			"WaitFor": func() error {
				_, err := work.WaitFor(ctx, c, id)
				return err
			},
			"Abort": func() error { return c.Abort(ctx, id) },
		} {
			err := call()
			if !errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", name, err)
				continue
			}
			if n := strings.Count(err.Error(), fmt.Sprint(id)); n != 1 {
				t.Errorf("%s: %q names the job %d times, want once", name, err, n)
			}
		}
	}
}
