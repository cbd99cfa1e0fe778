package storage

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// JobFilter selects jobs for queries and bulk operations. Every set field
// must match (AND); a field with several values matches any of them (OR).
// The zero JobFilter matches every job. Names that no job has (an unknown
// queue or kind) simply match nothing; a state that does not exist is
// ErrUnknownState.
type JobFilter struct {
	// IDs matches these jobs.
	IDs []int64
	// States matches jobs in these states.
	States []State
	// Kinds matches jobs of these kinds.
	Kinds []string
	// Queues matches jobs of these queues.
	Queues []string
	// CreatedAfter and CreatedBefore match jobs created at or after, and
	// strictly before, these times; zero means unbounded.
	CreatedAfter, CreatedBefore time.Time
	// FinishedAfter and FinishedBefore match finished jobs that finished at
	// or after, and strictly before, these times; zero means unbounded.
	// Either one set matches finished jobs only.
	FinishedAfter, FinishedBefore time.Time
	// UniqueKey matches jobs with this unique key; empty matches any.
	UniqueKey string
}

// Empty reports whether f matches every job.
func (f *JobFilter) Empty() bool {
	return len(f.IDs) == 0 && len(f.States) == 0 && len(f.Kinds) == 0 && len(f.Queues) == 0 &&
		f.CreatedAfter.IsZero() && f.CreatedBefore.IsZero() &&
		f.FinishedAfter.IsZero() && f.FinishedBefore.IsZero() && f.UniqueKey == ""
}

// Validate reports ErrUnknownState, wrapped with the state, when f names a
// state that does not exist.
func (f *JobFilter) Validate() error {
	for _, st := range f.States {
		if !st.Valid() {
			return fmt.Errorf("%w %q: want one of %s", ErrUnknownState, st, stateList())
		}
	}
	return nil
}

// ParseState returns the state named s, or ErrUnknownState.
func ParseState(s string) (State, error) {
	st := State(s)
	if !st.Valid() {
		return "", fmt.Errorf("%w %q: want one of %s", ErrUnknownState, s, stateList())
	}
	return st, nil
}

func stateList() string {
	names := make([]string, len(States))
	for i, st := range States {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// Order is the order of a query's jobs. Jobs are ordered by ID, which is
// the order they were inserted in.
type Order uint8

// The orders of JobQuery.
const (
	// OrderNewest lists the newest jobs first (descending ID); it is the zero Order.
	OrderNewest Order = iota
	// OrderOldest lists the oldest jobs first (ascending ID).
	OrderOldest
)

// JobQueryParams asks for one page of jobs.
type JobQueryParams struct {
	Filter JobFilter
	Order  Order
	// Cursor continues after the last job of an earlier page: the Next of
	// that page's result, from a query with the same Order. Empty starts
	// at the first job.
	Cursor string
	// Limit caps the page; zero means 100, and it is at most 1,000.
	Limit int
}

// JobQueryResult is one page of jobs.
type JobQueryResult struct {
	Jobs []*Job
	// Next is the cursor of the next page; empty when this page is the last.
	Next string
}

// QueryLimit returns the effective page size of p: 100 when zero, capped at 1,000.
func (p *JobQueryParams) QueryLimit() int {
	switch {
	case p.Limit <= 0:
		return 100
	case p.Limit > 1000:
		return 1000
	}
	return p.Limit
}

// Validate checks p's filter, order and cursor, and returns the id the
// page starts after (0: from the first job).
func (p *JobQueryParams) Validate() (afterID int64, err error) {
	if err := p.Filter.Validate(); err != nil {
		return 0, err
	}
	if p.Order != OrderNewest && p.Order != OrderOldest {
		return 0, fmt.Errorf("%w: order %d", ErrInvalid, p.Order)
	}
	return decodeCursor(p.Cursor, p.Order)
}

// Page turns the jobs a backend read for p (at most QueryLimit()+1 of
// them, in p's order) into the result: the extra job, when there is one,
// only says that another page follows.
func (p *JobQueryParams) Page(jobs []*Job) *JobQueryResult {
	limit := p.QueryLimit()
	if len(jobs) <= limit {
		return &JobQueryResult{Jobs: jobs}
	}
	jobs = jobs[:limit]
	return &JobQueryResult{Jobs: jobs, Next: encodeCursor(p.Order, jobs[limit-1].ID)}
}

// cursorPrefix starts every cursor's text: a version, so the format can change.
const cursorPrefix = "v1."

// encodeCursor returns the cursor of a page that ends with job id in order o.
func encodeCursor(o Order, id int64) string {
	tag := "n"
	if o == OrderOldest {
		tag = "o"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + tag + strconv.FormatInt(id, 10)))
}

// decodeCursor returns the id cursor c continues after, 0 for an empty
// cursor, or ErrInvalidCursor.
func decodeCursor(c string, o Order) (int64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	s, ok := strings.CutPrefix(string(b), cursorPrefix)
	if err != nil || !ok || len(s) < 2 {
		return 0, fmt.Errorf("%w %q", ErrInvalidCursor, c)
	}
	want := byte('n')
	if o == OrderOldest {
		want = 'o'
	}
	if s[0] != want {
		return 0, fmt.Errorf("%w %q: made for the other order", ErrInvalidCursor, c)
	}
	id, err := strconv.ParseInt(s[1:], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w %q", ErrInvalidCursor, c)
	}
	return id, nil
}

// JobCountParams asks for the counts.
type JobCountParams struct {
	// Now overrides the storage clock (tests): it decides which pending
	// jobs are ready.
	Now time.Time
}

// CountLimit is where the SQL backends stop counting one group's jobs in
// one state (see JobCountResult).
const CountLimit = 1000

// GroupCount is how many jobs of one group (a queue or a kind) are in one state.
type GroupCount struct {
	Name  string
	State State
	// Count is the number of the group's jobs in the state; with AtLeast,
	// a lower bound.
	Count int64
	// AtLeast reports that counting stopped at Count (CountLimit): the
	// group has at least that many jobs in the state.
	AtLeast bool
}

// QueueAge is the earliest RunAfter among one queue's ready pending jobs:
// the age of the job that has waited longest is the count's Now minus it.
type QueueAge struct {
	Queue       string
	OldestReady time.Time
}

// JobCountResult holds the counts. Groups with no jobs are left out.
//
// The pending and running counts of each queue, and Ready, are exact.
// Every other count is exact up to CountLimit jobs: past it a backend may
// stop counting that group's jobs in that state and report CountLimit with
// AtLeast set. The SQL backends do, so that a count reads at most
// CountLimit index entries per group and state however large the table;
// the memory backend counts every job. So on a small table every count is
// exact, and on a large one the big groups (typically the completed jobs
// of each queue and kind) are lower bounds.
type JobCountResult struct {
	// Queues counts jobs per queue and state, ordered by queue, then state.
	Queues []GroupCount
	// Kinds counts jobs per kind and state, ordered by kind, then state.
	Kinds []GroupCount
	// Ready lists the queues with ready pending jobs, ordered by queue.
	Ready []QueueAge
	// Now is the storage clock's time of the count.
	Now time.Time
}

// JobBatch selects one batch of a bulk operation: the jobs matching Filter
// that the operation applies to (for example the failed and aborted ones
// of a retry), with an ID above AfterID, in ascending ID order, at most
// Limit of them. A caller walks every match by passing the Next of each
// result as the AfterID of the next call, until Next is 0; jobs that come
// to match behind the walk (a retried job that fails again) are not met
// twice.
type JobBatch struct {
	Filter JobFilter
	// All allows an empty Filter, which matches every job; without it an
	// empty filter is ErrEmptyFilter.
	All     bool
	AfterID int64
	// Limit caps the jobs one call selects; zero means 1,000, and it is at
	// most 10,000.
	Limit int
	// Now overrides the storage clock (tests).
	Now time.Time
}

// BatchLimit returns the effective batch size of b: 1,000 when zero, capped at 10,000.
func (b *JobBatch) BatchLimit() int {
	switch {
	case b.Limit <= 0:
		return 1000
	case b.Limit > 10000:
		return 10000
	}
	return b.Limit
}

// Validate reports ErrEmptyFilter for an empty filter without All, and
// ErrUnknownState for a state that does not exist.
func (b *JobBatch) Validate() error {
	if b.Filter.Empty() && !b.All {
		return fmt.Errorf("%w: set a filter, or All to mean every job", ErrEmptyFilter)
	}
	if b.AfterID < 0 {
		return fmt.Errorf("%w: negative after id %d", ErrInvalid, b.AfterID)
	}
	return b.Filter.Validate()
}

// JobBatchResult is the outcome of one batch of a bulk operation.
type JobBatchResult struct {
	// Changed is how many jobs the batch changed.
	Changed int
	// Next is the AfterID of the next batch (the ID of the last job this
	// one selected, when it selected Limit jobs); 0 when it was the last.
	Next int64
}

// JobRetryParams retries failed and aborted jobs: each goes back to
// pending with its attempts reset to zero (a fresh budget of MaxAttempts),
// no lease, output or finish time, ready at RunAfter. It keeps the error
// message and code of its last outcome until its next outcome.
type JobRetryParams struct {
	JobBatch
	// RunAfter defers the retried jobs; zero means ready now.
	RunAfter time.Time
}

// JobDeleteParams deletes jobs.
type JobDeleteParams struct {
	JobBatch
	// Pending deletes matching pending jobs too; without it only finished
	// (completed, failed, aborted) jobs are deleted.
	Pending bool
}

// JobAbortManyParams aborts jobs.
type JobAbortManyParams struct {
	JobBatch
}

// QueuePauseParams pauses one queue.
type QueuePauseParams struct {
	Queue string
	// Now overrides the storage clock (tests).
	Now time.Time
}

// QueueResumeParams resumes one queue.
type QueueResumeParams struct {
	Queue string
	// Now overrides the storage clock (tests).
	Now time.Time
}

// QueueListParams asks for the stored queue states.
type QueueListParams struct{}

// QueueState is the stored state of one queue.
type QueueState struct {
	Name string
	// Paused reports whether the queue is paused.
	Paused bool
	// PausedAt is when the queue was paused; zero when it is not.
	PausedAt time.Time
	// UpdatedAt is when the queue was last paused or resumed.
	UpdatedAt time.Time
}

// Validate reports ErrInvalid for an empty queue name.
func (p *QueuePauseParams) Validate() error { return validQueue(p.Queue) }

// Validate reports ErrInvalid for an empty queue name.
func (p *QueueResumeParams) Validate() error { return validQueue(p.Queue) }

func validQueue(q string) error {
	if q == "" {
		return fmt.Errorf("%w: empty queue", ErrInvalid)
	}
	return nil
}
