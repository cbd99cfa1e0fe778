package postgres

import (
	"context"
	"errors"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// The cross-process test runs a worker process whose poll interval is a
// minute, and observes it from this process through a detached client
// whose poll interval is a minute too: every wake-up, result, progress
// report and abort inside the test's deadline travelled by LISTEN/NOTIFY.

// crossIn is the input of the cross-process kind: Block makes the handler
// wait for its context; otherwise it reports progress and returns N*2.
type crossIn struct {
	N     int  `json:"n"`
	Block bool `json:"block"`
}

type crossOut struct {
	N int `json:"n"`
}

var crossKind = runtime.NewKind[crossIn, crossOut](runtime.KindOpts{Name: "cross", Queue: "cross", MaxAttempts: 1})

// slowPoll is longer than any wait of the test.
const slowPoll = time.Minute

// runCrossWorker works the cross queue until SIGTERM.
func runCrossWorker() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	s, err := roleStore(4)
	if err != nil {
		return err
	}
	defer s.Close()
	srv, err := runtime.NewServer(s, runtime.Config{PollInterval: slowPoll, StopTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	err = crossKind.Register(srv, func(ctx context.Context, job *runtime.Job[crossIn]) (crossOut, error) {
		if job.Args.Block {
			<-ctx.Done()
			return crossOut{}, context.Cause(ctx)
		}
		for p := 25; p <= 100; p += 25 {
			job.ReportProgress(float64(p), "step")
			select { // the job's own work: a few steps, so progress can travel
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				return crossOut{}, context.Cause(ctx)
			}
		}
		return crossOut{N: job.Args.N * 2}, nil
	})
	if err != nil {
		return err
	}
	return serveUntil(ctx, srv)
}

func TestCrossProcessWaitAbortProgress(t *testing.T) {
	c := newCluster(t)
	worker := c.start("crossworker")
	defer c.stop()

	// The observer is a detached client on a store of its own, with its
	// own LISTEN connection.
	obs := ownStore(t, c.dsn, c.s.n.schema)
	client, err := runtime.NewClient(obs, runtime.ClientConfig{PollInterval: slowPoll})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Submit, progress and WaitFor across processes.
	h, err := crossKind.Submit(ctx, client, crossIn{N: 21}, nil)
	if err != nil {
		t.Fatal(err)
	}
	updates, stopUpdates := h.Progress()
	defer stopUpdates()
	res, err := h.Wait(ctx)
	if err != nil {
		t.Fatalf("cross-process WaitFor: %v (worker %d)", err, worker.cmd.Process.Pid)
	}
	if res.N != 42 {
		t.Fatalf("result %d, want 42", res.N)
	}
	var seen []float64
	for p := range updates { // closed when the finish notification arrives
		seen = append(seen, p.Percent)
	}
	if len(seen) == 0 {
		t.Error("no progress reached the other process")
	}

	// Abort across processes: the worker's handler is cancelled by the
	// abort notification, and WaitFor here sees the aborted job.
	h, err = crossKind.Submit(ctx, client, crossIn{Block: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.poll(20*time.Second, "the blocking job to run", func() bool {
		j, err := obs.JobGet(ctx, &storage.JobGetParams{ID: h.ID})
		return err == nil && j.State == storage.StateRunning
	})
	if err := h.Abort(ctx); err != nil {
		t.Fatalf("cross-process abort: %v", err)
	}
	if _, err := h.Wait(ctx); !errors.Is(err, runtime.ErrAborted) {
		t.Fatalf("WaitFor after a cross-process abort: %v, want ErrAborted", err)
	}
}

// ownStore opens a store on schema with a pool of its own, so it listens
// on a connection of its own as another process would.
func ownStore(t *testing.T, dsn, schema string) *Store {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(pool, &Options{Schema: schema})
	if err != nil {
		pool.Close()
		t.Fatal(err)
	}
	s.ownPool = true
	t.Cleanup(func() { s.Close() })
	return s
}
