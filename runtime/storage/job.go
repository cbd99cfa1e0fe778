package storage

import (
	"maps"
	"time"
)

// State is where a job is in its life.
type State string

// The states of a job. Completed, failed and aborted are terminal.
const (
	// StatePending jobs wait to be claimed; they are ready once RunAfter has passed.
	StatePending State = "pending"
	// StateRunning jobs are claimed and held under a lease.
	StateRunning State = "running"
	// StateCompleted jobs finished successfully and carry their output.
	StateCompleted State = "completed"
	// StateFailed jobs failed permanently, ran out of attempts or passed their deadline.
	StateFailed State = "failed"
	// StateAborted jobs were aborted and are never retried.
	StateAborted State = "aborted"
)

// States lists every state in life order.
var States = []State{StatePending, StateRunning, StateCompleted, StateFailed, StateAborted}

// Terminal reports whether s is a final state.
func (s State) Terminal() bool {
	return s == StateCompleted || s == StateFailed || s == StateAborted
}

// Valid reports whether s is one of the five states.
func (s State) Valid() bool {
	switch s {
	case StatePending, StateRunning, StateCompleted, StateFailed, StateAborted:
		return true
	}
	return false
}

// Job is one stored job. Zero times mean "not set".
type Job struct {
	// ID is unique per storage, across queues and kinds. IDs are positive.
	ID int64
	// Kind names the job type; it selects the handler.
	Kind string
	// Queue is the queue the job is claimed from.
	Queue string
	// Input is the encoded job arguments.
	Input []byte
	// Output is the encoded result of a completed job.
	Output []byte
	// State is the job's current state.
	State State
	// Priority orders claims: a smaller number runs first.
	Priority int
	// Attempt counts claims, rescues included.
	Attempt int
	// MaxAttempts is how many claims the job may use before it fails.
	MaxAttempts int
	// RunAfter is the earliest time a pending job may be claimed.
	RunAfter time.Time
	// LeaseToken fences the writes of the current claim; zero when not running.
	LeaseToken int64
	// LeaseExpiresAt is when a running job's lease runs out and it becomes claimable again.
	LeaseExpiresAt time.Time
	// AbortRequestedAt is when an abort of the running job was requested.
	AbortRequestedAt time.Time
	// Deadline is when a job not yet started fails without running.
	Deadline time.Time
	// Timeout bounds one run of the handler; zero means none.
	Timeout time.Duration
	// ErrorMessage says what went wrong on the last failed attempt: the
	// job's failure or abort, or while it waits for a retry the error that
	// caused it. It is empty once the job completed.
	ErrorMessage string
	// ErrorCode classifies ErrorMessage (for example "panic", "timeout", "aborted").
	ErrorCode string
	// UniqueKey deduplicates active jobs of one kind; empty means none.
	UniqueKey string
	// Metadata is the map of strings stored with the job at insert (trace
	// context, tags); nil when it has none. Retries and rescues keep it.
	Metadata map[string]string
	// CreatedAt is when the job was inserted.
	CreatedAt time.Time
	// AttemptedAt is when the job was last claimed.
	AttemptedAt time.Time
	// FinishedAt is when the job reached a terminal state.
	FinishedAt time.Time
}

// ClaimedJob is what a claim returns of each job it took: what a worker
// needs to run the job and to fence its writes. A claimed job is running,
// so the rest of its record is known (state running, no output or error,
// AttemptedAt the claim's time) or not needed to run it; JobGet returns the
// whole record. Keeping the claim narrow keeps it cheap: a claim of many
// jobs reads, sends and allocates only these fields.
type ClaimedJob struct {
	// ID is the job's id.
	ID int64
	// Kind names the job type; it selects the handler.
	Kind string
	// Queue is the queue the job was claimed from.
	Queue string
	// Input is the encoded job arguments.
	Input []byte
	// Attempt counts claims, this one included.
	Attempt int
	// MaxAttempts is how many claims the job may use before it fails.
	MaxAttempts int
	// LeaseToken fences the writes of this claim (heartbeat, finish).
	LeaseToken int64
	// LeaseExpiresAt is when the lease runs out unless renewed.
	LeaseExpiresAt time.Time
	// Deadline is when a job not yet started fails without running; zero
	// when none.
	Deadline time.Time
	// Timeout bounds this run of the handler; zero means none.
	Timeout time.Duration
	// Metadata is the map of strings stored with the job; nil when it has
	// none.
	Metadata map[string]string
	// CreatedAt is when the job was inserted.
	CreatedAt time.Time
	// RunAfter is the job's run-after time as the claim found it: when it
	// became ready (its insert's, its retry's or release's), or for a job
	// rescued from an expired lease when it was ready before that run.
	RunAfter time.Time
}

// Clone returns a deep copy of j, so callers may keep or change it freely.
func (j *Job) Clone() *Job {
	if j == nil {
		return nil
	}
	c := *j
	c.Input = cloneBytes(j.Input)
	c.Output = cloneBytes(j.Output)
	c.Metadata = maps.Clone(j.Metadata)
	return &c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
