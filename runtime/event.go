package runtime

import (
	"encoding/json"
	"time"
)

// Progress is what a running job reports about itself.
type Progress struct {
	// Percent is in [0, 100].
	Percent float64 `json:"percent"`
	// Message says what the job is doing.
	Message string `json:"message,omitempty"`
	// Details is the encoded details value of Job.ReportProgressDetails
	// (at most MaxProgressDetails bytes), or nil. Every observer of the
	// report shares it: do not modify it.
	Details json.RawMessage `json:"details,omitempty"`
}

// progressReporter delivers the progress reports of one running job.
type progressReporter interface {
	reportProgress(Progress)
	// detailsDropped notes that a report left its details out, and why.
	detailsDropped(error)
}

// EventKind says what happened to a job.
type EventKind uint8

// The kinds of event, in the order a job's life produces them.
const (
	EventSubmitted EventKind = iota + 1
	EventStarted
	EventProgress
	EventRetried
	EventCompleted
	EventFailed
	EventAborted
	// EventSnoozed: the handler returned Snooze; the job runs again at
	// RunAfter without having used an attempt.
	EventSnoozed
	// EventReleased: the server gave the job back to its queue without
	// using an attempt, and it runs again at RunAfter: its handler
	// returned HoldQueue (RunAfter is when the hold ends; Err is the
	// handler's error), or the server claimed it while stopping, or has
	// no handler for its kind (Err says so), and any server may take it at
	// once.
	EventReleased
)

var eventKindNames = [...]string{
	EventSubmitted: "submitted",
	EventStarted:   "started",
	EventProgress:  "progress",
	EventRetried:   "retried",
	EventCompleted: "completed",
	EventFailed:    "failed",
	EventAborted:   "aborted",
	EventSnoozed:   "snoozed",
	EventReleased:  "released",
}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) && eventKindNames[k] != "" {
		return eventKindNames[k]
	}
	return "unknown"
}

// Terminal reports whether k ends a job's life.
func (k EventKind) Terminal() bool {
	return k == EventCompleted || k == EventFailed || k == EventAborted
}

// Event is one thing that happened to one job, as seen by this process.
// A listener sees one job's server-side events (started, progress,
// retried, terminal) in the order they happened. EventSubmitted is emitted
// by the submitting call once the insert returns, so when a fetch already
// in flight claims the job at once, its first EventStarted can arrive
// before it; Attempt and At order them.
type Event struct {
	Kind    EventKind
	JobID   int64
	JobKind string
	Queue   string
	// Attempt is the attempt the event belongs to (0 for EventSubmitted).
	Attempt int
	// Progress is set on EventProgress.
	Progress Progress
	// Err is the job's error on EventRetried, EventFailed and EventAborted.
	Err error
	// RunAfter is when a retried, snoozed or deferred job becomes ready;
	// on EventStarted, the job's run-after time as it was claimed (see
	// RunInfo.RunAfter).
	RunAfter time.Time
	// CreatedAt is when the job was submitted, set on EventStarted: the
	// job has been ready since the later of CreatedAt and RunAfter.
	CreatedAt time.Time
	// At is when the event happened.
	At time.Time
}
