package jobgenotel_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// work is the tests' job kind; its Mode says what the handler does.
type work struct {
	Mode string `json:"mode"`
}

// The modes of work.
const (
	modeOK    = "ok"    // complete
	modeFail  = "fail"  // fail permanently
	modeRetry = "retry" // fail the first attempt, complete the second
	modeBlock = "block" // wait to be aborted
	modePanic = "panic" // panic
)

var workKind = runtime.NewKind[work, runtime.NoOutput](runtime.KindOpts{Name: "work", Queue: "q"})

// errDeclined is what a work job in modeFail fails with.
var errDeclined = errors.New("declined")

// handleWork is work's handler; it sends the id of each job in modeBlock
// to blocked once it runs.
func handleWork(blocked chan<- int64) runtime.HandlerFunc[work, runtime.NoOutput] {
	return func(ctx context.Context, job *runtime.Job[work]) (runtime.NoOutput, error) {
		switch job.Args.Mode {
		case modeFail:
			return runtime.NoOutput{}, runtime.Permanent(errDeclined)
		case modeRetry:
			if job.Attempt == 1 {
				return runtime.NoOutput{}, runtime.RetryAfter(0, errors.New("flaky"))
			}
		case modeBlock:
			blocked <- job.ID
			<-ctx.Done()
			return runtime.NoOutput{}, context.Cause(ctx)
		case modePanic:
			panic("boom")
		}
		return runtime.NoOutput{}, nil
	}
}

// startServer starts a server over store with cfg that runs work jobs, and
// returns it with the channel of blocked jobs' ids. The server stops when
// the test ends.
func startServer(t *testing.T, store storage.Storage, cfg runtime.Config) (*runtime.Server, <-chan int64) {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := runtime.NewServer(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan int64, 16)
	if err := workKind.Register(srv, handleWork(blocked)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.StopAndCancel(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return srv, blocked
}

// newMemoryStore returns a memory store closed when the test ends.
func newMemoryStore(t *testing.T) *memory.Store {
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	return store
}

// newMemoryServer is startServer over a new memory store.
func newMemoryServer(t *testing.T, cfg runtime.Config) (*runtime.Server, <-chan int64) {
	t.Helper()
	return startServer(t, newMemoryStore(t), cfg)
}

// testContext returns a context that ends with the test or after a minute.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// submit submits a work job in mode with opts and returns its handle.
func submit(t *testing.T, ctx context.Context, c *runtime.Client, mode string, opts *runtime.SubmitOpts) *runtime.Handle[runtime.NoOutput] {
	t.Helper()
	h, err := workKind.Submit(ctx, c, work{Mode: mode}, opts)
	if err != nil {
		t.Fatalf("submit %s: %v", mode, err)
	}
	return h
}
