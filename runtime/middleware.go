package runtime

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// SubmitInfo describes one job being submitted, with the kind's defaults
// and the submit's options resolved, as a SubmitMiddleware sees it before
// the job is stored.
type SubmitInfo struct {
	Kind        string
	Queue       string
	Priority    int
	MaxAttempts int
	// RunAfter defers the job; zero means ready now.
	RunAfter time.Time
	// Deadline fails the job if it has not started by then; zero means none.
	Deadline time.Time
	// Timeout bounds each run; zero means none.
	Timeout   time.Duration
	UniqueKey string
	// Metadata is what the job will store: SubmitOpts.Metadata, copied,
	// with what earlier middleware added. It is never nil, and middleware
	// may add, change and delete entries before calling next; the result
	// is checked against the bounds of metadata (an error matching
	// ErrInvalidOption) when next is called. Changes to the other fields
	// are ignored.
	Metadata map[string]string
}

// SubmitResult is what a submit stored.
type SubmitResult struct {
	// ID is the job's id: the new job's, or that of the active job that
	// holds its unique key.
	ID int64
	// Duplicate reports that nothing was stored because an active job
	// holds the unique key.
	Duplicate bool
}

// SubmitMiddleware wraps the store of every job a client submits. It is
// called before anything is written, with the submit's ctx and info; next
// stores the job (with info.Metadata as it is then) and returns what it
// stored, or the storage's error. A middleware that returns an error
// without calling next refuses the submit: nothing is written, and the
// submit returns the error, wrapped with the kind's name; so does a
// middleware that returns nil without next having stored the job. next
// stores a job each time it is called: call it once. A middleware may pass
// next a ctx derived from its own (a tracing span's).
//
// Middleware is registered in Config.SubmitMiddleware (the attached
// client's) and ClientConfig.SubmitMiddleware (a detached client's). The
// first in the slice is the outermost: it is called first, and its next
// calls the second. With none, a submit costs nothing more.
type SubmitMiddleware func(ctx context.Context, info *SubmitInfo, next func(ctx context.Context) (SubmitResult, error)) (SubmitResult, error)

// RunInfo describes one run of a job's handler, as a RunMiddleware sees it.
type RunInfo struct {
	ID    int64
	Kind  string
	Queue string
	// Attempt counts the job's claims, this one included.
	Attempt     int
	MaxAttempts int
	// Metadata is the job's stored metadata; nil when it has none. It is
	// the job's own map: read it, do not change it.
	Metadata map[string]string
	// CreatedAt is when the job was submitted.
	CreatedAt time.Time
	// RunAfter is the job's run-after time as it was claimed (see
	// storage.ClaimedJob.RunAfter); the job has been ready since the later
	// of CreatedAt and RunAfter.
	RunAfter time.Time

	onOutcome []func(RunOutcome)
}

// OnOutcome asks the server to call f with the run's outcome once it has
// decided it from the error the outermost middleware returned, before the
// outcome is written. A middleware calls it before it returns; the server
// calls the functions on the run's goroutine, the last registered first
// (the innermost middleware's first, as deferred calls run). A panic of f
// is recovered and logged.
func (info *RunInfo) OnOutcome(f func(RunOutcome)) {
	info.onOutcome = append(info.onOutcome, f)
}

// RunOutcome is what a run made of its job, as the server decided it.
type RunOutcome uint8

// The outcomes of a run.
const (
	// RunCompleted: the job completed.
	RunCompleted RunOutcome = iota + 1
	// RunRetried: the attempt failed and the job will be retried.
	RunRetried
	// RunFailed: the job failed for good (Permanent, an input that does
	// not decode, the last attempt).
	RunFailed
	// RunAborted: the job was aborted while it ran.
	RunAborted
	// RunReleased: the job went back to its queue without using an
	// attempt (HoldQueue, a server stopping).
	RunReleased
	// RunSnoozed: the handler returned Snooze.
	RunSnoozed
)

var runOutcomeNames = [...]string{
	RunCompleted: "completed",
	RunRetried:   "retried",
	RunFailed:    "failed",
	RunAborted:   "aborted",
	RunReleased:  "released",
	RunSnoozed:   "snoozed",
}

func (o RunOutcome) String() string {
	if int(o) < len(runOutcomeNames) && runOutcomeNames[o] != "" {
		return runOutcomeNames[o]
	}
	return "unknown"
}

// runOutcome names the outcome of finish f, written for a run whose error
// is err.
func runOutcome(f *storage.JobFinish, err error) RunOutcome {
	switch f.Outcome {
	case storage.OutcomeComplete:
		return RunCompleted
	case storage.OutcomeRetry:
		return RunRetried
	case storage.OutcomeFail:
		return RunFailed
	case storage.OutcomeAbort:
		return RunAborted
	}
	if sn := (*SnoozeError)(nil); errors.As(err, &sn) {
		return RunSnoozed
	}
	return RunReleased
}

// RunMiddleware wraps every call of a job's handler in a server. ctx is the
// job's context (cancelled by aborts, timeouts, lost leases and Stop); next
// decodes the input and runs the handler with the ctx it is given, which
// should be ctx or derived from it, and returns the handler's error. A
// panic of the handler reaches the middleware as the *PanicError that next
// returns.
//
// The error a run middleware returns is the run's error, and it decides the
// job's outcome as a handler's error does: return next's error as it is, or
// wrapped with %w (fmt.Errorf), to keep the outcome the handler chose
// (Permanent, RetryAfter, HoldQueue, a panic are recognised through
// wrapping); return another error to fail the attempt instead, or nil to
// complete the job (with the handler's output when it returned one, none
// when it failed). A middleware that returns without calling next skips
// the handler; next runs the handler each time it is called: call it at
// most once. The outcome the server decides from the outermost
// middleware's error reaches every middleware that asks for it with
// info.OnOutcome.
//
// Middleware is registered in Config.RunMiddleware. The first in the slice
// is the outermost: it is called first, and its next calls the second;
// the last one's next runs the handler. With none, a run costs nothing
// more.
type RunMiddleware func(ctx context.Context, info *RunInfo, next func(ctx context.Context) error) error

// errNotStored is the error of a submit whose middleware returned no
// error without storing the job.
var errNotStored = errors.New("a submit middleware returned without storing the job")

// submitThrough stores p with store through the client's submit
// middleware, and returns what store returned.
func (c *Client) submitThrough(ctx context.Context, p *storage.JobInsertParams, store func(context.Context) (*storage.JobInsertResult, error)) (*storage.JobInsertResult, error) {
	var res *storage.JobInsertResult
	last := func(ctx context.Context) (SubmitResult, error) {
		if err := checkMetadata(p.Metadata); err != nil {
			return SubmitResult{}, err
		}
		r, err := store(ctx)
		if err != nil {
			return SubmitResult{}, err
		}
		res = r
		return SubmitResult{ID: r.Job.ID, Duplicate: r.Duplicate}, nil
	}
	if _, err := c.submitChain(ctx, p, last); err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errNotStored
	}
	return res, nil
}

// submitChain calls the client's submit middleware for job p around last,
// which finds p.Metadata set to the metadata the chain left.
func (c *Client) submitChain(ctx context.Context, p *storage.JobInsertParams, last func(context.Context) (SubmitResult, error)) (SubmitResult, error) {
	md := maps.Clone(p.Metadata)
	if md == nil {
		md = make(map[string]string)
	}
	info := &SubmitInfo{
		Kind: p.Kind, Queue: p.Queue, Priority: p.Priority, MaxAttempts: p.MaxAttempts,
		RunAfter: p.RunAfter, Deadline: p.Deadline, Timeout: p.Timeout, UniqueKey: p.UniqueKey,
		Metadata: md,
	}
	return submitChain(c.submitMW, info, func(ctx context.Context) (SubmitResult, error) {
		p.Metadata = info.Metadata
		return last(ctx)
	})(ctx)
}

// submitChain returns the call of mw, the first outermost, around last.
func submitChain(mw []SubmitMiddleware, info *SubmitInfo, last func(context.Context) (SubmitResult, error)) func(context.Context) (SubmitResult, error) {
	if len(mw) == 0 {
		return last
	}
	next := submitChain(mw[1:], info, last)
	return func(ctx context.Context) (SubmitResult, error) { return mw[0](ctx, info, next) }
}

// callThrough runs rj's handler through the server's run middleware. A
// panic of a middleware, like one of the handler, is recovered, logged
// and returned as a *PanicError.
func (s *Server) callThrough(rj *runningJob) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.recovered(rj, "jobgen: run middleware panicked", r)
		}
	}()
	rec := rj.rec
	info := &RunInfo{
		ID: rec.ID, Kind: rec.Kind, Queue: rec.Queue, Attempt: rec.Attempt, MaxAttempts: rec.MaxAttempts,
		Metadata: rec.Metadata, CreatedAt: rec.CreatedAt, RunAfter: rec.RunAfter,
	}
	last := func(ctx context.Context) error {
		var err error
		out, err = s.callHandler(ctx, rj)
		return err
	}
	rj.info = info
	err = runChain(s.runMW, info, last)(rj.ctx)
	return out, err
}

// tellOutcome calls the outcome functions of rj's run middleware with the
// outcome of f, written for the run's error err.
func (s *Server) tellOutcome(rj *runningJob, f *storage.JobFinish, err error) {
	fs := rj.info.onOutcome
	if len(fs) == 0 {
		return
	}
	o := runOutcome(f, err)
	for i := len(fs) - 1; i >= 0; i-- {
		s.callOutcome(rj, fs[i], o)
	}
}

// callOutcome calls f with o, recovering and logging a panic.
func (s *Server) callOutcome(rj *runningJob, f func(RunOutcome), o RunOutcome) {
	defer func() {
		if r := recover(); r != nil {
			s.recovered(rj, "jobgen: run middleware's outcome function panicked", r)
		}
	}()
	f(o)
}

// runChain returns the call of mw, the first outermost, around last.
func runChain(mw []RunMiddleware, info *RunInfo, last func(context.Context) error) func(context.Context) error {
	if len(mw) == 0 {
		return last
	}
	next := runChain(mw[1:], info, last)
	return func(ctx context.Context) error { return mw[0](ctx, info, next) }
}
