package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

type double struct {
	N    int    `json:"n"`
	Wait bool   `json:"wait"`
	Key  string `json:"key"`
}

type tell struct {
	Fail bool `json:"fail"`
}

var (
	doubleKind = runtime.NewKind[double, int](runtime.KindOpts{Name: "double", MaxAttempts: 1}).
			WithUniqueKey(func(d double) string { return d.Key })
	tellKind = runtime.NewKind[tell, runtime.NoOutput](runtime.KindOpts{Name: "tell", MaxAttempts: 1})
)

// TestTypedClients runs jobs through KindClient and NoOutputClient, the types
// that generated clients and handles are aliases of.
func TestTypedClients(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// A waiting job reports progress once the test has subscribed to it, then
	// runs until it is aborted.
	subscribed := make(chan struct{})
	if err := doubleKind.Register(srv, func(ctx context.Context, job *runtime.Job[double]) (int, error) {
		if job.Args.Wait {
			select {
			case <-subscribed:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
			job.ReportProgress(50, "waiting")
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return 2 * job.Args.N, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := tellKind.Register(srv, runtime.NoOutputFunc(func(ctx context.Context, job *runtime.Job[tell]) error {
		if job.Args.Fail {
			return runtime.Permanent(errors.New("told to fail"))
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(ctx)
	doubles := runtime.NewKindClient(doubleKind, srv.Client())
	tells := runtime.NewNoOutputClient(tellKind, srv.Client())

	t.Run("output", func(t *testing.T) {
		h, err := doubles.Submit(ctx, double{N: 21}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := h.Wait(ctx); err != nil || out != 42 {
			t.Errorf("Wait = %d, %v; want 42", out, err)
		}
		if out, err := doubles.WaitFor(ctx, h.ID); err != nil || out != 42 {
			t.Errorf("WaitFor = %d, %v; want 42", out, err)
		}
		info, err := doubles.Get(ctx, h.ID)
		if err != nil || info.Args.N != 21 || info.Output != 42 {
			t.Errorf("Get = %+v, %v; want args 21 and output 42", info, err)
		}
		if err := doubles.Abort(ctx, h.ID); !errors.Is(err, runtime.ErrFinished) {
			t.Errorf("Abort of a finished job = %v, want ErrFinished", err)
		}
	})

	t.Run("duplicate, progress and abort", func(t *testing.T) {
		first, err := doubles.Submit(ctx, double{N: 1, Wait: true, Key: "k"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		updates, stop := first.Progress()
		defer stop()
		close(subscribed)
		again, err := doubles.Submit(ctx, double{N: 1, Wait: true, Key: "k"}, nil)
		if err != nil || !again.Duplicate || again.ID != first.ID || first.Duplicate {
			t.Fatalf("second Submit = %+v, %v; want a duplicate of job %d", again, err, first.ID)
		}
		if p := <-updates; p.Percent != 50 || p.Message != "waiting" {
			t.Errorf("progress %+v, want 50%% waiting", p)
		}
		if err := again.Abort(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := first.Wait(ctx); !errors.Is(err, runtime.ErrAborted) {
			t.Errorf("Wait of an aborted job = %v, want ErrAborted", err)
		}
		for range updates { // closed when the job finishes
		}
	})

	t.Run("no output", func(t *testing.T) {
		ok, err := tells.Submit(ctx, tell{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ok.Wait(ctx); err != nil {
			t.Errorf("Wait = %v", err)
		}
		bad, err := tells.Submit(ctx, tell{Fail: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := tells.WaitFor(ctx, bad.ID); !errors.Is(err, runtime.ErrFailed) {
			t.Errorf("WaitFor of a failing job = %v, want ErrFailed", err)
		}
		if info, err := tells.Get(ctx, bad.ID); err != nil || !info.Args.Fail {
			t.Errorf("Get = %+v, %v", info, err)
		}
		if _, err := doubles.Get(ctx, runtime.ID[double](bad.ID)); !errors.Is(err, runtime.ErrWrongKind) {
			t.Errorf("Get through another kind's client = %v, want ErrWrongKind", err)
		}
	})
}

func TestNoOutputFuncNil(t *testing.T) {
	t.Parallel()
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tellKind.Register(srv, runtime.NoOutputFunc[tell](nil)); err == nil {
		t.Error("Register of NoOutputFunc(nil) succeeded")
	}
}
