package runtime

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jobgen/jobgen/runtime/clock"
	"github.com/jobgen/jobgen/runtime/storage"
)

// Attempt describes the one attempt RunOnce runs. Zero fields are the
// defaults each names.
type Attempt struct {
	// ID is the job's id. Defaults to 1.
	ID int64
	// Attempt is the attempt's number, from 1. Defaults to 1.
	Attempt int
	// MaxAttempts defaults to the kind's.
	MaxAttempts int
	// Timeout overrides the kind's per-run timeout when set; zero means none.
	Timeout *time.Duration
	// Queue defaults to the kind's.
	Queue string
	// Clock is the time a HoldQueue's until is measured on. Defaults to
	// the system clock.
	Clock clock.Clock
	// Logger receives what a server's worker would log (a panic, a hold).
	// Defaults to discarding it.
	Logger *slog.Logger
}

// RunOnce runs one attempt of a job of kind k with arguments args and
// handler h on the calling goroutine, as a server's worker runs a claimed
// job, without storage: args are encoded and decoded as a submit and a
// claim do, the run's context has the timeout as its deadline, a panic is
// recovered into a *PanicError, and the handler's return is classified by
// the worker's own rules. It returns the outcome a server would write
// (Outcome, ErrorCode, RetryDelay, the encoded Output) and the handler's
// error. It is the seam of package jobgentest, which most tests should use
// instead.
func RunOnce[In, Out any](ctx context.Context, k *Kind[In, Out], h HandlerFunc[In, Out], args In, a Attempt) (storage.JobFinish, error) {
	if h == nil {
		return storage.JobFinish{}, fmt.Errorf("run %s: nil handler", k.opts.Name)
	}
	input, err := encodeInput(k.codec, args)
	if err != nil {
		return storage.JobFinish{}, fmt.Errorf("run %s: encode input: %w", k.opts.Name, err)
	}
	if a.Clock == nil {
		a.Clock = clock.Real{}
	}
	if a.Logger == nil {
		a.Logger = slog.New(slog.DiscardHandler)
	}
	clk := newTimeSource(a.Clock)
	now := clk.now()
	rec := &storage.ClaimedJob{
		ID:          max(a.ID, 1),
		Kind:        k.opts.Name,
		Queue:       cmp.Or(a.Queue, k.opts.Queue),
		Input:       input,
		Attempt:     max(a.Attempt, 1),
		MaxAttempts: cmp.Or(a.MaxAttempts, k.opts.MaxAttempts),
		Timeout:     override(a.Timeout, k.opts.Timeout),
		CreatedAt:   now,
		RunAfter:    now,
	}
	s := &Server{logger: a.Logger, clk: clk, cfg: Config{LeaseDuration: DefaultLeaseDuration}}
	s.hub = newHub(a.Logger, clk) // progress reports reach no one
	rj := &runningJob{s: s, rec: rec, kind: &registeredKind{opts: &k.opts, run: k.runFunc(h)}, q: &queue{name: rec.Queue}}
	rj.ctx, rj.cancel = context.WithCancelCause(ctx)
	defer rj.cancel(nil)
	if t := rec.Timeout; t > 0 {
		rj.ctx, rj.stopTimeout = context.WithTimeoutCause(rj.ctx, t, errTimeout)
		defer rj.stopTimeout()
	}
	out, err := s.call(rj)
	return s.outcome(rj, out, err)
}
