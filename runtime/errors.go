package runtime

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Errors returned by clients and servers. Match them with errors.Is.
var (
	// ErrNotFound: no job has that id. It is storage.ErrNotFound, so either matches.
	ErrNotFound = storage.ErrNotFound
	// ErrDeleted: the job WaitFor waits for finished and retention deleted
	// it before its outcome was read, so the outcome is unknown. WaitFor
	// returns it instead of ErrNotFound when it knows the job existed: it
	// read the job before, or waits through the job's Handle. It does not
	// match ErrNotFound.
	ErrDeleted = errors.New("jobgen: job finished and was deleted by retention")
	// ErrFailed: the job failed permanently or ran out of attempts.
	ErrFailed = errors.New("jobgen: job failed")
	// ErrAborted: the job was aborted.
	ErrAborted = errors.New("jobgen: job aborted")
	// ErrFinished: an abort found the job already finished; nothing changed.
	ErrFinished = errors.New("jobgen: job already finished")
	// ErrServerClosed: the server was stopped; its attached client submits nothing.
	ErrServerClosed = errors.New("jobgen: server closed")
	// ErrStopped is the cause given to job contexts cancelled by a server stop.
	ErrStopped = errors.New("jobgen: server stopped")
	// ErrAbortRequested is the cause given to job contexts cancelled by an abort.
	ErrAbortRequested = errors.New("jobgen: job abort requested")
	// ErrLeaseLost is the cause given to job contexts whose lease another
	// claim took over (this process stalled past the lease); the job's
	// outcome is not written.
	ErrLeaseLost = errors.New("jobgen: job lease lost")
	// ErrPayloadTooLarge: the encoded input is over the size limit; nothing was written.
	ErrPayloadTooLarge = errors.New("jobgen: payload too large")
	// ErrInvalidName: a queue or kind name is not valid; nothing was written.
	ErrInvalidName = errors.New("jobgen: invalid name")
	// ErrInvalidOption: an option is negative or out of range; nothing was written.
	ErrInvalidOption = errors.New("jobgen: invalid option")
	// ErrWrongKind: the job exists but is of another kind.
	ErrWrongKind = errors.New("jobgen: job of another kind")
	// ErrDeadlineExceeded: the job passed its deadline before it started.
	// The job's *JobError (code CodeDeadline) matches it.
	ErrDeadlineExceeded = errors.New("jobgen: job deadline passed before it started")
)

// JobError is the error WaitFor returns for a job that did not complete. It
// matches ErrFailed or ErrAborted with errors.Is, and ErrDeadlineExceeded
// when the job passed its deadline before it started.
//
// Across processes only the stored Code and Message tell what went wrong.
// A waiter whose client is attached to the server that ran the job gets
// the handler's error itself as well, through Unwrap: errors.Is and
// errors.As then match the handler's own errors (Permanent(ErrDeclined)
// matches ErrDeclined).
type JobError struct {
	ID    int64
	Kind  string
	State storage.State
	// Attempt is how many times the job was claimed. A job that passed
	// its deadline is failed by the claim that found it so, before it
	// ran: that claim is counted too.
	Attempt int
	// Message is the stored error message.
	Message string
	// Code classifies Message ("error", "panic", "timeout", "aborted", ...).
	Code string

	cause error // the handler's error, when it ran in this process
}

// Error says what became of the job, after how many runs, and why:
// "email job 7 failed after 3 attempts: smtp: 550 no such user", or
// "email job 8 aborted before it ran".
func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s job %d %s", e.Kind, e.ID, e.State)
	switch ran := e.ran(); ran {
	case 0:
		b.WriteString(" before it ran")
	case 1:
		b.WriteString(" after 1 attempt")
	default:
		fmt.Fprintf(&b, " after %d attempts", ran)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// ran returns how many times the job's handler was called: the claims,
// less the one that found the deadline passed.
func (e *JobError) ran() int {
	if e.Code == CodeDeadline {
		return max(e.Attempt-1, 0)
	}
	return e.Attempt
}

// Is matches ErrFailed or ErrAborted according to the job's state, and
// ErrDeadlineExceeded according to its code.
func (e *JobError) Is(target error) bool {
	return (target == ErrFailed && e.State == storage.StateFailed) ||
		(target == ErrAborted && e.State == storage.StateAborted) ||
		(target == ErrDeadlineExceeded && e.Code == CodeDeadline)
}

// Unwrap returns the error the job's handler returned (or the runtime's
// reason, such as ErrDeadlineExceeded), when the outcome reached this
// client in memory from the server that wrote it; nil when it was read
// from storage.
func (e *JobError) Unwrap() error { return e.cause }

// jobError returns the *JobError of a failed or aborted job; cause is the
// handler's error when it ran in this process, else nil.
func jobError(job *storage.Job, cause error) error {
	return &JobError{ID: job.ID, Kind: job.Kind, State: job.State, Attempt: job.Attempt, Message: job.ErrorMessage, Code: job.ErrorCode, cause: cause}
}

// wrongKind is the error of op through kind want on job id, which is of
// kind got.
func wrongKind(op string, id int64, got, want string) error {
	return fmt.Errorf("%s job %d: %w: %q, not %q", op, id, ErrWrongKind, got, want)
}

// PermanentError marks a handler error that must not be retried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the job fails at once instead of being retried.
func Permanent(err error) error {
	if err == nil {
		err = errors.New("permanent failure")
	}
	return &PermanentError{Err: err}
}

// RetryAfterError asks for a retry after Delay, in place of the backoff.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err so the job is retried after d (if attempts remain)
// instead of after the kind's backoff. The run counts as a failed attempt:
// the error is recorded and EventRetried emitted. To run again later
// without using an attempt, return Snooze(d).
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		err = fmt.Errorf("retry after %v", d)
	}
	return &RetryAfterError{Delay: max(d, 0), Err: err}
}

// PanicError is a recovered handler panic.
type PanicError struct {
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v\n\n%s", e.Value, e.Stack)
}

// NameError reports an invalid queue or kind name. It matches ErrInvalidName.
type NameError struct {
	// What is "queue" or "kind".
	What   string
	Name   string
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid %s name %q: %s", e.What, e.Name, e.Reason)
}

// Is matches ErrInvalidName.
func (e *NameError) Is(target error) bool { return target == ErrInvalidName }

// QueueNotWorkedError reports a registered kind whose default queue the
// server neither works (Config.Queues) nor skips on purpose
// (Config.SkipQueues): Start fails with it, since the kind's jobs would
// wait with nobody to run them. It matches ErrInvalidOption.
type QueueNotWorkedError struct {
	Kind  string
	Queue string
}

func (e *QueueNotWorkedError) Error() string {
	return fmt.Sprintf("kind %s has queue %q, which Config.Queues leaves out, so its jobs would never run here: "+
		"add the queue to Config.Queues, or to Config.SkipQueues if other servers work it", e.Kind, e.Queue)
}

// Is matches ErrInvalidOption.
func (e *QueueNotWorkedError) Is(target error) bool { return target == ErrInvalidOption }

// validateName returns a *NameError when name breaks storage.ValidName's
// rule, saying how.
func validateName(what, name string) error {
	switch {
	case storage.ValidName(name):
		return nil
	case name == "":
		return &NameError{What: what, Name: name, Reason: "empty"}
	case len(name) > storage.MaxNameLen:
		return &NameError{What: what, Name: name[:storage.MaxNameLen] + "...", Reason: fmt.Sprintf("longer than %d characters", storage.MaxNameLen)}
	default:
		return &NameError{What: what, Name: name, Reason: "want " + storage.NameRule}
	}
}

// HoldQueueError asks to start no job of the job's queue before the hold
// ends, and to run the job again then without using an attempt (see
// HoldQueue).
type HoldQueueError struct {
	// Until is when the hold ends; when zero, it ends Delay after the
	// handler returned, on the server's clock (Config.Clock).
	Until time.Time
	Delay time.Duration
	Err   error
}

func (e *HoldQueueError) Error() string { return e.Err.Error() }
func (e *HoldQueueError) Unwrap() error { return e.Err }

// HoldQueue wraps err, the handler's answer to a provider's limit (an HTTP
// 429 with Retry-After, say), so that the job goes back to pending to run
// at until without using an attempt, and the server holds its queue's
// starts until then: through the queue's limiter (limit.Limiter.Hold)
// when it has one, so a limiter shared by several processes holds them
// all, or else in this server only. An abort still wins over a hold.
func HoldQueue(until time.Time, err error) error {
	if err == nil {
		err = fmt.Errorf("jobgen: queue held until %s", until.UTC().Format(time.RFC3339Nano))
	}
	return &HoldQueueError{Until: until, Err: err}
}

// HoldQueueFor is HoldQueue until d after the handler returns, on the
// server's clock.
func HoldQueueFor(d time.Duration, err error) error {
	if err == nil {
		err = fmt.Errorf("jobgen: queue held for %v", d)
	}
	return &HoldQueueError{Delay: max(d, 0), Err: err}
}

// ErrUnavailable: storage could not be reached or its connection broke
// during the call, or it stayed busy past its timeout (storage.ErrUnavailable,
// storage.ErrBusy). The condition may pass; the call may be retried. A
// submit that failed with it may or may not have stored its job (see
// KindClient.Submit). Errors matching it are *UnavailableError values.
var ErrUnavailable = errors.New("jobgen: storage unavailable")

// UnavailableError is the error of a call that storage could not serve for
// a condition that may pass. It matches ErrUnavailable with errors.Is and
// unwraps to the storage's error, which matches storage.ErrUnavailable or
// storage.ErrBusy.
type UnavailableError struct {
	// Err is the storage's error.
	Err error
}

func (e *UnavailableError) Error() string { return "jobgen: storage unavailable: " + e.Err.Error() }

// Unwrap returns the storage's error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is matches ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// storageError returns err, the error of a storage call, as an
// *UnavailableError when it says storage is unavailable or busy, and as it
// is otherwise.
func storageError(err error) error {
	if unavailable(err) {
		return &UnavailableError{Err: err}
	}
	return err
}

// unavailable reports whether err, the error of a storage call, says
// storage is unavailable or busy.
func unavailable(err error) bool {
	return errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrBusy)
}

// BatchError reports the element of a SubmitMany batch that cannot be
// submitted (its input does not encode, is too large, or yields an
// invalid unique key): nothing of the batch was written. It wraps the
// element's error, so errors.Is matches ErrPayloadTooLarge or
// ErrInvalidOption through it.
type BatchError struct {
	// Index is the element's index in the batch.
	Index int
	Err   error
}

func (e *BatchError) Error() string { return fmt.Sprintf("batch element %d: %v", e.Index, e.Err) }
func (e *BatchError) Unwrap() error { return e.Err }

// SnoozeError asks to run the job again after Delay without using an
// attempt (see Snooze).
type SnoozeError struct {
	Delay time.Duration
}

func (e *SnoozeError) Error() string { return fmt.Sprintf("jobgen: job snoozed for %v", e.Delay) }

// Snooze is what a handler returns to run the job again d after it
// returns, on the server's clock, without using an attempt: the job goes
// back to pending with run-after now+d and its attempt count unchanged, so
// the next run sees the same Job.Attempt. Unlike RetryAfter, which uses an
// attempt and records the handler's error, Snooze is not a failure: the
// job keeps the error of its last failed attempt, if any, and the server
// emits EventSnoozed (not EventRetried). There is no cap on how often a
// job snoozes; a job's Deadline still applies (a job snoozed past it fails
// at its next claim), and an abort still wins. A negative d is zero.
func Snooze(d time.Duration) error {
	return &SnoozeError{Delay: max(d, 0)}
}
