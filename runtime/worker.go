package runtime

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Error codes stored with failed, retried and aborted jobs.
const (
	CodeError     = "error"     // the handler returned an error
	CodePanic     = "panic"     // the handler panicked
	CodeTimeout   = "timeout"   // the run passed its timeout
	CodeDeadline  = "deadline"  // the job was not started before its deadline
	CodeDecode    = "decode"    // the stored input could not be decoded
	CodeAborted   = "aborted"   // the job was aborted
	CodePermanent = "permanent" // the handler returned Permanent(err)
)

// errTimeout is the cause of a job context that passed its timeout.
var errTimeout = errors.New("jobgen: job timed out")

// runningJob is one claimed job in this process, from claim until its
// outcome is written.
type runningJob struct {
	s           *Server
	rec         *storage.ClaimedJob
	kind        *registeredKind
	q           *queue
	ctx         context.Context
	cancel      context.CancelCauseFunc
	stopTimeout context.CancelFunc // nil without a timeout
	info        *RunInfo           // what the run middleware saw; nil without any

	mu        sync.Mutex
	decided   bool          // the handler has returned; later aborts are too late
	aborted   bool          // an abort was requested before the handler returned
	written   bool          // the outcome is written (or given up)
	writtenCh chan struct{} // made on demand by waitWritten, closed when written
	// publishing counts reports handed to the progress publisher and not
	// yet sent; publishedCh is made by waitPublished, closed when none is
	// left (see progressnote.go).
	publishing  int
	publishedCh chan struct{}

	lost atomic.Bool // the lease was lost: write nothing
}

// waitWritten returns a channel that is closed once the job's outcome is
// written.
func (rj *runningJob) waitWritten() <-chan struct{} {
	rj.mu.Lock()
	defer rj.mu.Unlock()
	if rj.writtenCh == nil {
		rj.writtenCh = make(chan struct{})
		if rj.written {
			close(rj.writtenCh)
		}
	}
	return rj.writtenCh
}

// markWritten records that the outcome is written and releases waiters.
func (rj *runningJob) markWritten() {
	rj.mu.Lock()
	defer rj.mu.Unlock()
	rj.written = true
	if rj.writtenCh != nil {
		close(rj.writtenCh)
	}
}

// requestAbort cancels the job with cause ErrAbortRequested unless its
// handler has already returned. It reports whether the request took.
func (rj *runningJob) requestAbort() bool {
	rj.mu.Lock()
	defer rj.mu.Unlock()
	if rj.decided {
		return false
	}
	rj.aborted = true
	rj.cancel(ErrAbortRequested)
	return true
}

// decide marks the handler as returned and reports whether an abort was
// requested before.
func (rj *runningJob) decide() (aborted bool) {
	rj.mu.Lock()
	defer rj.mu.Unlock()
	rj.decided = true
	return rj.aborted
}

func (rj *runningJob) isDecided() bool {
	rj.mu.Lock()
	defer rj.mu.Unlock()
	return rj.decided
}

// startAll takes claimed jobs into the server, one slot of q reserved for
// each (see queue.reserve): each job holds it until its outcome is
// written. A job past its deadline fails without running; a job claimed
// while Stop began is released at once.
func (s *Server) startAll(q *queue, recs []*storage.ClaimedJob, now time.Time, stopping bool) {
	rjs := make([]runningJob, len(recs))
	s.jobs.Add(len(recs))
	s.mu.Lock()
	for i, rec := range recs {
		rj := &rjs[i]
		rj.s, rj.rec, rj.kind, rj.q = s, rec, s.kinds[rec.Kind], q
		rj.ctx, rj.cancel = context.WithCancelCause(s.jobBase)
		s.running[rec.ID] = rj
	}
	s.mu.Unlock()
	run := make([]*runningJob, 0, len(rjs))
	for i := range rjs {
		if rj := &rjs[i]; s.start(rj, now, stopping) {
			run = append(run, rj)
		}
	}
	s.dispatch(q, run)
}

// start prepares one claimed job to run and reports whether it should, or
// writes its outcome at once when it must not run.
func (s *Server) start(rj *runningJob, now time.Time, stopping bool) bool {
	rec := rj.rec
	switch {
	case stopping:
		rj.decide()
		s.fin.submit(rj, storage.JobFinish{Outcome: storage.OutcomeRelease}, nil)
	case !rec.Deadline.IsZero() && now.After(rec.Deadline):
		rj.decide()
		err := fmt.Errorf("%w (deadline %s)", ErrDeadlineExceeded, rec.Deadline.UTC().Format(time.RFC3339Nano))
		s.fin.submit(rj, storage.JobFinish{Outcome: storage.OutcomeFail, ErrorCode: CodeDeadline, ErrorMessage: storableMessage(err.Error())}, err)
	case rj.kind == nil: // storage returned a kind we did not ask for
		rj.decide()
		err := fmt.Errorf("no handler for kind %q in this server", rec.Kind)
		s.fin.submit(rj, storage.JobFinish{Outcome: storage.OutcomeRelease}, err)
	default:
		// The stored timeout is the kind's or the submit's; zero is none.
		if t := rec.Timeout; t > 0 {
			rj.ctx, rj.stopTimeout = context.WithTimeoutCause(rj.ctx, t, errTimeout)
		}
		return true
	}
	return false
}

// dispatch hands rjs to q's waiting workers and starts a worker for each
// job beyond them (see workQueue). Workers stay for the server's life, so a
// job costs no goroutine start and its handler runs on a stack that has
// already grown; shutdown closes q.work once every job is done, which ends
// them.
func (s *Server) dispatch(q *queue, rjs []*runningJob) {
	if len(rjs) == 0 {
		return
	}
	for _, rj := range q.work.put(rjs) {
		s.workers.Add(1)
		go s.worker(q, rj)
	}
}

func (s *Server) worker(q *queue, rj *runningJob) {
	defer s.workers.Done()
	var reserve [workerStackReserve]byte
	holdStack(&reserve)
	for ; rj != nil; rj = q.work.take() {
		s.run(rj)
	}
}

// run runs the handler and hands its outcome to the finisher.
func (s *Server) run(rj *runningJob) {
	if rec := rj.rec; s.hub.listening() {
		s.hub.emit(Event{Kind: EventStarted, JobID: rec.ID, JobKind: rec.Kind, Queue: rec.Queue, Attempt: rec.Attempt,
			RunAfter: rec.RunAfter, CreatedAt: rec.CreatedAt, At: s.clk.now()})
	}
	out, err := s.call(rj)
	f, jobErr := s.outcome(rj, out, err)
	if rj.info != nil {
		s.tellOutcome(rj, &f, jobErr)
	}
	if rj.stopTimeout != nil {
		rj.stopTimeout()
	}
	rj.waitPublished() // the finish must not overtake the job's progress
	s.fin.submit(rj, f, jobErr)
}

// reportProgress delivers a progress report of the handler to this
// process's observers and, on backends with notifications, to others.
func (rj *runningJob) reportProgress(p Progress) {
	publish := rj.s.progressCh != nil
	rj.mu.Lock()
	if rj.decided {
		rj.mu.Unlock()
		return // never after the outcome
	}
	if publish {
		rj.publishing++ // counted before the outcome can wait for it
	}
	rj.mu.Unlock()
	rec := rj.rec
	rj.s.hub.reportProgress(Event{Kind: EventProgress, JobID: rec.ID, JobKind: rec.Kind, Queue: rec.Queue, Attempt: rec.Attempt, Progress: p, At: rj.s.clk.now()})
	if publish {
		rj.s.publishProgress(rj, p)
	}
}

// call runs the handler, through the run middleware when there is some
// (see callThrough).
func (s *Server) call(rj *runningJob) (out []byte, err error) {
	if len(s.runMW) > 0 {
		return s.callThrough(rj)
	}
	return s.callHandler(rj.ctx, rj)
}

// callHandler runs the handler with ctx, turning a panic into a
// *PanicError with the stack.
func (s *Server) callHandler(ctx context.Context, rj *runningJob) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.recovered(rj, "jobgen: handler panicked", r)
		}
	}()
	return rj.kind.run(ctx, rj.rec, rj)
}

// recovered logs the panic r of rj's run, once and with its stack, and
// returns it as a *PanicError.
func (s *Server) recovered(rj *runningJob, msg string, r any) error {
	stack := debug.Stack()
	s.logger.Error(msg, jobArgs(rj.rec, "panic", r, logStack, string(stack))...)
	return &PanicError{Value: r, Stack: stack}
}

// outcome turns the handler's return into the write that ends this attempt.
func (s *Server) outcome(rj *runningJob, out []byte, err error) (storage.JobFinish, error) {
	aborted := rj.decide()
	rec := rj.rec
	if err == nil {
		return storage.JobFinish{Outcome: storage.OutcomeComplete, Output: out}, nil
	}
	cause := context.Cause(rj.ctx)
	msg := storableMessage(err.Error())
	var (
		permanent *PermanentError
		retry     *RetryAfterError
		panicked  *PanicError
		decode    *inputDecodeError
		hold      *HoldQueueError
		snooze    *SnoozeError
	)
	switch {
	case aborted:
		return storage.JobFinish{Outcome: storage.OutcomeAbort, ErrorCode: CodeAborted, ErrorMessage: msg}, err
	case errors.As(err, &snooze): // before a hold: Server.written tells them apart by it
		return storage.JobFinish{Outcome: storage.OutcomeRelease, RetryDelay: snooze.Delay}, err
	case errors.As(err, &hold):
		return storage.JobFinish{Outcome: storage.OutcomeRelease, RetryDelay: s.holdQueue(rj, hold)}, err
	case errors.Is(cause, ErrStopped):
		return storage.JobFinish{Outcome: storage.OutcomeRelease}, err
	case errors.As(err, &decode):
		return storage.JobFinish{Outcome: storage.OutcomeFail, ErrorCode: CodeDecode, ErrorMessage: msg}, err
	case errors.As(err, &permanent):
		return storage.JobFinish{Outcome: storage.OutcomeFail, ErrorCode: CodePermanent, ErrorMessage: msg}, err
	}
	code := CodeError
	switch {
	case errors.As(err, &panicked):
		code = CodePanic
	case errors.Is(cause, errTimeout):
		code = CodeTimeout
	}
	if rec.Attempt >= rec.MaxAttempts {
		return storage.JobFinish{Outcome: storage.OutcomeFail, ErrorCode: code, ErrorMessage: msg}, err
	}
	delay := rj.kind.opts.Backoff(rec.Attempt)
	if errors.As(err, &retry) {
		delay = retry.Delay
	}
	return storage.JobFinish{Outcome: storage.OutcomeRetry, ErrorCode: code, ErrorMessage: msg, RetryDelay: delay}, err
}

// workerStackReserve is stack every worker holds in its own frame while it
// waits for a job. The garbage collector halves a waiting goroutine's stack
// when less than a quarter of it is in use, and the next handler (decoding
// JSON input alone takes several KiB) grows it back by copying: with the
// reserve, stacks of up to four times its size are never shrunk. Without
// it, a PostgreSQL burn-down with 2,000 workers spent a third of the
// process's CPU copying stacks.
const workerStackReserve = 4 << 10

// holdStack keeps the reserve in its caller's frame: a call the compiler
// cannot inline or prove needless.
//
//go:noinline
func holdStack(*[workerStackReserve]byte) {}
