package storage

import (
	"context"
	"time"
)

// Storage is the source of truth for jobs. Implementations are safe for
// concurrent use by many goroutines (and, for the SQL backends, by many
// processes). Every method takes ctx first and one params struct; a nil
// params pointer is a programmer error.
type Storage interface {
	// JobInsert inserts one pending job. When UniqueKey is set and an active
	// (pending or running) job of the same kind holds it, nothing is inserted
	// and the result carries that job with Duplicate set. A job that fails
	// JobInsertParams.Validate gets ErrInvalid and is never written; a
	// backend that shares statements among concurrent calls still
	// inserts the others.
	JobInsert(ctx context.Context, p *JobInsertParams) (*JobInsertResult, error)

	// JobInsertMany inserts many jobs in one round trip (one transaction
	// where the backend has them). Results are in the order of p.Jobs.
	// When any job fails JobInsertParams.Validate, the call returns
	// ErrInvalid naming it and inserts none.
	JobInsertMany(ctx context.Context, p *JobInsertManyParams) ([]*JobInsertResult, error)

	// JobClaim claims up to p.Limit ready jobs of p.Queue whose kind is in
	// p.Kinds, ordered by priority, RunAfter, ID; it claims nothing while
	// the queue is paused (see QueuePause). It also reports the
	// earliest future RunAfter among pending jobs of that queue and kinds,
	// so an idle caller knows how long it may sleep.
	JobClaim(ctx context.Context, p *JobClaimParams) (*JobClaimResult, error)

	// JobHeartbeat extends the leases of running jobs held with the given
	// tokens. It reports which leases were lost (the job is no longer held
	// with that token) and which held jobs have an abort request.
	JobHeartbeat(ctx context.Context, p *JobHeartbeatParams) (*JobHeartbeatResult, error)

	// JobAbortRequested returns, in ascending order, those of the jobs
	// p.IDs that are running with an abort request. It only reads. The
	// runtime asks it while jobs run, once per poll interval, on backends
	// without notifications (no Notifier), so that an abort from another
	// process reaches the job within about that interval rather than at
	// its next heartbeat.
	JobAbortRequested(ctx context.Context, p *JobAbortRequestedParams) ([]int64, error)

	// JobFinish writes the outcome of many claimed jobs at once (group
	// commit). Each entry is fenced by its lease token; Applied[i] tells
	// whether entry i changed its job. An entry that cannot be written
	// for what it holds (strings JobFinish.Validate refuses, a value the
	// database rejects) fails alone: its error is in the result's Errors,
	// and every other entry is written as if it were not there. The call
	// itself fails only when no entry's fate is known (the storage is
	// closed or unreachable, the params are invalid).
	JobFinish(ctx context.Context, p *JobFinishParams) (*JobFinishResult, error)

	// JobAbort aborts a job: a pending job becomes aborted at once, a running
	// job gets an abort request recorded, a finished job is left unchanged.
	// It returns ErrNotFound for an unknown id.
	JobAbort(ctx context.Context, p *JobAbortParams) (*JobAbortResult, error)

	// JobGet returns one job, or ErrNotFound.
	JobGet(ctx context.Context, p *JobGetParams) (*Job, error)

	// JobList returns jobs matching the filter in ascending ID order,
	// starting after p.AfterID (keyset pagination).
	JobList(ctx context.Context, p *JobListParams) ([]*Job, error)

	// JobDeleteFinished deletes jobs in the terminal state p.State that
	// finished before p.FinishedBefore, oldest first, at most
	// p.DeleteLimit() of them, and returns how many it deleted; fewer than
	// the limit means it found no more (but those a concurrent call was
	// deleting). It deletes a job whatever made it terminal (a finish, an
	// abort while pending, a claim that failed an expired lease). Each call
	// is short (one statement, served by an index on state and finish
	// time), so callers delete a backlog in batches.
	JobDeleteFinished(ctx context.Context, p *JobDeleteFinishedParams) (int, error)

	// JobQuery returns one page of the jobs matching p.Filter in p.Order,
	// starting after p.Cursor (keyset pagination by id: the pages stay
	// correct while jobs are inserted and deleted). A malformed cursor is
	// ErrInvalidCursor, an unknown state ErrUnknownState.
	JobQuery(ctx context.Context, p *JobQueryParams) (*JobQueryResult, error)

	// JobCount counts the jobs per queue and state and per kind and state,
	// and reports per queue the earliest RunAfter among its ready pending
	// jobs.
	JobCount(ctx context.Context, p *JobCountParams) (*JobCountResult, error)

	// JobRetry returns one batch of the failed and aborted jobs matching
	// p.Filter to pending (see JobRetryParams). Jobs in other states are
	// left alone, and so is a job whose unique key an active job of its
	// kind holds meanwhile.
	JobRetry(ctx context.Context, p *JobRetryParams) (*JobBatchResult, error)

	// JobDelete deletes one batch of the finished jobs matching p.Filter,
	// and of the pending ones when p.Pending is set. Running jobs are never
	// deleted.
	JobDelete(ctx context.Context, p *JobDeleteParams) (*JobBatchResult, error)

	// JobAbortMany aborts one batch of the jobs matching p.Filter as
	// JobAbort does: pending ones at once, running ones by an abort request
	// for their holder (counted once: a job already asked is left alone).
	JobAbortMany(ctx context.Context, p *JobAbortManyParams) (*JobBatchResult, error)

	// QueuePause pauses a queue, known or not: from the moment the call
	// returns, no claim begun afterwards, in any process, takes a job of
	// that queue (a claim already in flight may still take jobs). Inserts
	// are accepted and running jobs finish. The paused state is stored.
	QueuePause(ctx context.Context, p *QueuePauseParams) error

	// QueueResume resumes a paused queue and wakes the claimers that work it
	// (through notifications where the backend has them). Resuming a queue
	// that is not paused does nothing.
	QueueResume(ctx context.Context, p *QueueResumeParams) error

	// QueueList returns the queues with a stored state (every queue ever
	// paused), in name order.
	QueueList(ctx context.Context, p *QueueListParams) ([]*QueueState, error)

	// Schedules keeps the schedules of periodic jobs (see Schedules).
	Schedules

	// Close releases the storage's resources. Calls after Close fail.
	Close() error
}

// InsertClaimer is implemented by backends that can insert a job and claim
// in one transaction, so a job submitted to an idle server in the same
// process starts after one commit instead of two. The runtime uses it when
// the storage has it.
type InsertClaimer interface {
	// JobInsertClaim inserts i exactly as JobInsert does and then, in the
	// same transaction, claims exactly as JobClaim does with c: the claim
	// sees the new job and takes jobs in claim order, so a job ahead of
	// the new one is claimed instead of it. On error nothing is written.
	JobInsertClaim(ctx context.Context, i *JobInsertParams, c *JobClaimParams) (*JobInsertResult, *JobClaimResult, error)
}

// Notifier is implemented by backends that can tell other processes about
// job changes (PostgreSQL through LISTEN/NOTIFY). Backends without it are
// observed by polling. Notifications are hints: the stored state is the truth.
type Notifier interface {
	// Subscribe delivers notifications to the returned channel until ctx
	// ends, then closes it. After a reconnect it sends a notification of
	// kind NotifyResync, since anything may have been missed meanwhile.
	Subscribe(ctx context.Context) (<-chan Notification, error)

	// Publish sends a notification to every subscriber, in every process.
	// The runtime publishes progress this way.
	Publish(ctx context.Context, n Notification) error
}

// NotifyKind says what a notification is about.
type NotifyKind uint8

// The kinds of notification.
const (
	// NotifyInserted: jobs became ready (or were deferred) in Queue.
	NotifyInserted NotifyKind = iota + 1
	// NotifyAbortRequested: an abort of running job JobID was recorded.
	NotifyAbortRequested
	// NotifyFinished: job JobID reached a terminal state.
	NotifyFinished
	// NotifyProgress: job JobID reported progress; Payload is the encoded progress.
	NotifyProgress
	// NotifyResync: notifications may have been lost; re-read what matters.
	NotifyResync
)

// Notification is a hint that something changed. It carries ids, never job
// arguments or results.
type Notification struct {
	Kind    NotifyKind
	Queue   string
	JobID   int64
	Payload []byte
}

// JobInsertParams describes one job to insert.
type JobInsertParams struct {
	Kind        string
	Queue       string
	Input       []byte
	Priority    int
	MaxAttempts int
	// RunAfter defers the job; zero means ready now.
	RunAfter time.Time
	// Deadline, when set, fails the job if it has not started by then.
	Deadline time.Time
	// Timeout bounds each run; zero means none.
	Timeout   time.Duration
	UniqueKey string
	// Metadata is a small map of strings stored with the job, within the
	// bounds MetadataProblem checks; nil or empty stores none. The
	// backend does not keep the map: changing it after the call changes
	// nothing stored.
	Metadata map[string]string
	// UniqueFor, when positive, makes UniqueKey hold also for this long
	// after a job of the kind holding it was created, whatever that job's
	// state: within the window the insert returns that job as Duplicate
	// (the newest, when no active job holds the key). Zero keeps the
	// active-only rule alone.
	UniqueFor time.Duration
	// Now overrides the storage clock (tests); zero means the storage clock.
	Now time.Time
}

// JobInsertResult is the outcome of one insert.
type JobInsertResult struct {
	// Job is the inserted job, or the existing active job that holds the unique key.
	Job *Job
	// Duplicate reports that nothing was inserted because of the unique key.
	Duplicate bool
}

// JobInsertManyParams inserts many jobs at once.
type JobInsertManyParams struct {
	Jobs []*JobInsertParams
	Now  time.Time
}

// JobClaimParams asks for ready jobs.
type JobClaimParams struct {
	Queue string
	// Kinds restricts the claim to these kinds; it must not be empty.
	Kinds []string
	// Limit is the most jobs to claim; it must be positive.
	Limit int
	// LeaseDuration is how long the claim holds each job before it may be
	// rescued by another claimer.
	LeaseDuration time.Duration
	Now           time.Time
}

// JobClaimResult holds the claimed jobs.
type JobClaimResult struct {
	// Jobs are the claimed jobs, now running, in claim order.
	Jobs []*ClaimedJob
	// NextRunAfter is the earliest RunAfter after Now among pending jobs of
	// the queue and kinds; zero when there is none.
	NextRunAfter time.Time
	// Now is the storage clock's time of the claim, so a caller on another
	// clock can turn NextRunAfter into a delay.
	Now time.Time
}

// Lease names one held job.
type Lease struct {
	ID    int64
	Token int64
}

// JobHeartbeatParams renews leases.
type JobHeartbeatParams struct {
	Leases        []Lease
	LeaseDuration time.Duration
	Now           time.Time
}

// JobHeartbeatResult reports what the heartbeat found.
type JobHeartbeatResult struct {
	// Lost lists the ids whose lease was not held any more with the given token.
	Lost []int64
	// AbortRequested lists held ids with an abort request.
	AbortRequested []int64
}

// JobAbortRequestedParams names the running jobs to look for abort
// requests on.
type JobAbortRequestedParams struct {
	IDs []int64
}

// Outcome is how a claimed job's run ended.
type Outcome uint8

// The outcomes JobFinish writes.
const (
	// OutcomeComplete writes Output and StateCompleted.
	OutcomeComplete Outcome = iota + 1
	// OutcomeFail writes the error and StateFailed.
	OutcomeFail
	// OutcomeRetry writes the error and StatePending with RunAfter = now + RetryDelay.
	OutcomeRetry
	// OutcomeRelease returns the job to StatePending with RunAfter = now +
	// RetryDelay (ready now when zero), and gives back the attempt its
	// claim used (shutdown cut it off, or its queue is held).
	OutcomeRelease
	// OutcomeAbort writes the error and StateAborted.
	OutcomeAbort
)

// JobFinish is the outcome of one claimed job.
type JobFinish struct {
	ID         int64
	LeaseToken int64
	Outcome    Outcome
	// Output is the encoded result (OutcomeComplete).
	Output []byte
	// ErrorMessage and ErrorCode describe a failure, retry or abort.
	ErrorMessage string
	ErrorCode    string
	// RetryDelay is how long a retried or released job waits (OutcomeRetry,
	// OutcomeRelease).
	RetryDelay time.Duration
	// Delete removes a job that reached a terminal state instead of keeping it.
	Delete bool
}

// JobFinishParams writes many outcomes at once.
type JobFinishParams struct {
	Jobs []JobFinish
	Now  time.Time
}

// JobFinishResult reports which outcomes were written.
type JobFinishResult struct {
	// Applied[i] is false when Jobs[i] was stale (the job was not running
	// with that lease token) or failed alone (see Errors): nothing changed.
	Applied []bool
	// Errors is nil when no entry failed alone. Otherwise it has one
	// element per entry, and Errors[i] is set when Jobs[i] could not be
	// written for what it holds: an error matching ErrInvalid when it
	// fails JobFinish.Validate, or the database's error for a value it
	// refused. Read it with Err.
	Errors []error
}

// Err returns the error with which entry i failed alone, or nil.
func (r *JobFinishResult) Err(i int) error {
	if r.Errors == nil {
		return nil
	}
	return r.Errors[i]
}

// SetErr records that entry i failed alone with err; backends call it.
func (r *JobFinishResult) SetErr(i int, err error) {
	if r.Errors == nil {
		r.Errors = make([]error, len(r.Applied))
	}
	r.Applied[i], r.Errors[i] = false, err
}

// JobAbortParams aborts one job.
type JobAbortParams struct {
	ID  int64
	Now time.Time
}

// AbortResult says what an abort did.
type AbortResult uint8

// The results of JobAbort.
const (
	// AbortedNow: the job was pending and is now aborted.
	AbortedNow AbortResult = iota + 1
	// AbortRequested: the job is running; the request is recorded for its owner.
	AbortRequested
	// AbortTooLate: the job had already finished; nothing changed.
	AbortTooLate
)

// JobAbortResult is the outcome of an abort.
type JobAbortResult struct {
	Result AbortResult
	// Job is the job after the call.
	Job *Job
}

// JobGetParams names one job.
type JobGetParams struct {
	ID int64
}

// JobListParams filters a listing. Empty fields match everything.
type JobListParams struct {
	Queue  string
	Kind   string
	States []State
	// AfterID starts the page after this id.
	AfterID int64
	// Limit caps the page; zero means 100, and it is at most 10,000.
	Limit int
}

// JobDeleteFinishedParams selects finished jobs to delete.
type JobDeleteFinishedParams struct {
	// State is the terminal state to delete.
	State          State
	FinishedBefore time.Time
	// Limit caps one call; zero means 1,000 (see DeleteLimit).
	Limit int
}
