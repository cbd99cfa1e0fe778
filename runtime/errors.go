package runtime

import (
	"errors"
	"fmt"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Errors returned by clients and servers. Match them with errors.Is.
var (
	// ErrNotFound: no job has that id. It is storage.ErrNotFound, so either matches.
	ErrNotFound = storage.ErrNotFound
	// ErrFailed: the job failed permanently or ran out of attempts.
	ErrFailed = errors.New("runtime: job failed")
	// ErrAborted: the job was aborted.
	ErrAborted = errors.New("runtime: job aborted")
	// ErrFinished: an abort found the job already finished; nothing changed.
	ErrFinished = errors.New("runtime: job already finished")
	// ErrServerClosed: the server was stopped; its attached client submits nothing.
	ErrServerClosed = errors.New("runtime: server closed")
	// ErrStopped is the cause given to job contexts cancelled by a server stop.
	ErrStopped = errors.New("runtime: server stopped")
	// ErrAbortRequested is the cause given to job contexts cancelled by an abort.
	ErrAbortRequested = errors.New("runtime: job abort requested")
	// ErrLeaseLost is the cause given to job contexts whose lease another
	// claim took over (this process stalled past the lease); the job's
	// outcome is not written.
	ErrLeaseLost = errors.New("runtime: job lease lost")
	// ErrPayloadTooLarge: the encoded input is over the size limit; nothing was written.
	ErrPayloadTooLarge = errors.New("runtime: payload too large")
	// ErrInvalidName: a queue or kind name is not valid; nothing was written.
	ErrInvalidName = errors.New("runtime: invalid name")
	// ErrInvalidOption: an option is negative or out of range; nothing was written.
	ErrInvalidOption = errors.New("runtime: invalid option")
	// ErrWrongKind: the job exists but is of another kind.
	ErrWrongKind = errors.New("runtime: job of another kind")
	// ErrDeadlineExceeded is the stored error code of a job that passed its deadline before it started.
	ErrDeadlineExceeded = errors.New("runtime: job deadline passed before it started")
)

// JobError is the error WaitFor returns for a job that did not complete. It
// matches ErrFailed or ErrAborted with errors.Is.
type JobError struct {
	ID      int64
	Kind    string
	State   storage.State
	Attempt int
	// Message is the stored error message.
	Message string
	// Code classifies Message ("error", "panic", "timeout", "aborted", ...).
	Code string
}

func (e *JobError) Error() string {
	return fmt.Sprintf("%s job %d %s after %d attempt(s): %s", e.Kind, e.ID, e.State, e.Attempt, e.Message)
}

// Is matches ErrFailed or ErrAborted according to the job's state.
func (e *JobError) Is(target error) bool {
	return (target == ErrFailed && e.State == storage.StateFailed) ||
		(target == ErrAborted && e.State == storage.StateAborted)
}

func jobError(job *storage.Job) error {
	return &JobError{ID: job.ID, Kind: job.Kind, State: job.State, Attempt: job.Attempt, Message: job.ErrorMessage, Code: job.ErrorCode}
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
// instead of after the kind's backoff.
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
