package runtimetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/clock"
	"github.com/jobgen/jobgen/runtime/storage"
)

// hangStore hangs the first call of one method until release is closed:
// until its ctx ends as well, or, with ignoreCtx, regardless of it. It
// counts the calls of the server's own methods in flight.
type hangStore struct {
	storage.Storage
	method    string
	ignoreCtx bool
	entered   chan struct{} // closed when the hung call begins
	release   chan struct{} // closed to let it go on

	once     sync.Once
	inflight atomic.Int64
}

// enter begins a call of method: it hangs the first of the chosen one.
func (s *hangStore) enter(ctx context.Context, method string) error {
	s.inflight.Add(1)
	if method != s.method {
		return nil
	}
	first := false
	s.once.Do(func() { first = true })
	if !first {
		return nil
	}
	close(s.entered)
	if s.ignoreCtx {
		<-s.release
		return nil
	}
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *hangStore) leave() { s.inflight.Add(-1) }

func (s *hangStore) JobClaim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	defer s.leave()
	if err := s.enter(ctx, "JobClaim"); err != nil {
		return nil, err
	}
	return s.Storage.JobClaim(ctx, p)
}

func (s *hangStore) JobHeartbeat(ctx context.Context, p *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	defer s.leave()
	if err := s.enter(ctx, "JobHeartbeat"); err != nil {
		return nil, err
	}
	return s.Storage.JobHeartbeat(ctx, p)
}

func (s *hangStore) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	defer s.leave()
	if err := s.enter(ctx, "JobFinish"); err != nil {
		return nil, err
	}
	return s.Storage.JobFinish(ctx, p)
}

func (s *hangStore) JobDeleteFinished(ctx context.Context, p *storage.JobDeleteFinishedParams) (int, error) {
	defer s.leave()
	if err := s.enter(ctx, "JobDeleteFinished"); err != nil {
		return 0, err
	}
	return s.Storage.JobDeleteFinished(ctx, p)
}

// testHungCallStop hangs one storage call of the server's own (a claim, a
// heartbeat, an outcome write, a retention sweep) for good: Stop returns
// when its ctx ends all the same. A call that heeds its ctx is cancelled
// then, so the server stops completely; a call that ignores it holds the
// rest of the stop until it returns. Once Stop has returned nil, no call of
// the server is left in storage. The lease is long, so that no bound of a
// call ends it within the test: only the stop does.
func testHungCallStop(t *testing.T, newStore NewStore) {
	for _, method := range []string{"JobClaim", "JobHeartbeat", "JobFinish", "JobDeleteFinished"} {
		for _, ignoreCtx := range []bool{false, true} {
			name := method + "/HeedsCtx"
			if ignoreCtx {
				name = method + "/IgnoresCtx"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				hungCallStop(t, newStore, method, ignoreCtx)
			})
		}
	}
}

func hungCallStop(t *testing.T, newStore NewStore, method string, ignoreCtx bool) {
	hs := &hangStore{method: method, ignoreCtx: ignoreCtx, entered: make(chan struct{}), release: make(chan struct{})}
	released := sync.OnceFunc(func() { close(hs.release) })
	fc := clock.NewFake(time.Now())
	cfg := runtime.Config{Clock: fc, LeaseDuration: time.Minute, PollInterval: slowPoll}
	if method == "JobDeleteFinished" {
		cfg.Retention.Completed = time.Hour // the sweep runs at start
	}
	started := make(chan int64, 1)
	e := newLoopEnv(t, func(t *testing.T) storage.Storage { hs.Storage = newStore(t); return hs }, cfg, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			if method == "JobHeartbeat" {
				<-ctx.Done() // runs until the heartbeat
				return Result{}, context.Cause(ctx)
			}
			return Result{}, nil
		})
	})
	if err := e.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		released()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		e.srv.StopAndCancel(ctx)
	})
	switch method {
	case "JobHeartbeat", "JobFinish":
		must(work.Submit(ctxT(t), e.client, Args{}, nil))
		recv(t, started, "job start")
		if method == "JobHeartbeat" {
			blockUntil(t, fc, idleWaiters(e)) // the heartbeat ticker is armed
			fc.Advance(cfg.LeaseDuration / 3)
		}
	}
	recv(t, hs.entered, "the "+method+" call to hang")

	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	if err := e.srv.Stop(short()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with %s hung: %v, want context.DeadlineExceeded", method, err)
	}
	if ignoreCtx {
		if err := e.srv.Stop(short()); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("second Stop with %s still hung: %v, want context.DeadlineExceeded", method, err)
		}
		released()
	}
	if err := e.srv.Stop(ctxT(t)); err != nil {
		t.Fatalf("Stop once %s returned: %v, want nil", method, err)
	}
	if n := hs.inflight.Load(); n != 0 {
		t.Fatalf("%d storage calls of the server still in flight after Stop returned nil", n)
	}
}
