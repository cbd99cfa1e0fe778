package storage

import (
	"context"
	"fmt"
	"time"
)

// Schedules keeps the schedules of periodic jobs: one row per name, with
// the time of its next tick. Storage never interprets a schedule's spec:
// the runtime computes tick times and storage only advances NextAt from
// the value read to the value given, inserting the tick's job in the same
// transaction (ScheduleTick). Many servers may race for one tick; exactly
// one of them advances it, with no leader and no lock held between ticks.
type Schedules interface {
	// ScheduleUpsert stores a schedule by name. A new one gets p.NextAt.
	// An existing one takes every field of p, but keeps its NextAt when
	// its Spec and TimeZone are unchanged, so servers that store the same
	// schedule as they start neither move nor repeat its next tick.
	ScheduleUpsert(ctx context.Context, p *ScheduleUpsertParams) (*Schedule, error)

	// ScheduleDelete removes the schedule p.Name; no tick inserts a job
	// for it any more. It returns ErrScheduleNotFound for an unknown name.
	// Jobs already inserted by its ticks are left alone.
	ScheduleDelete(ctx context.Context, p *ScheduleDeleteParams) error

	// ScheduleList returns every schedule, in name order.
	ScheduleList(ctx context.Context, p *ScheduleListParams) ([]*Schedule, error)

	// ScheduleTick advances schedule p.Name from the tick p.From to p.To
	// and, in the same transaction, inserts p.Job (when set) exactly as
	// JobInsert does, unique key included. It does both only when the
	// stored NextAt is still p.From (compare and set): of many calls with
	// the same From, one advances the schedule and inserts its job, and
	// the others change nothing and report Advanced false. Params that
	// fail ScheduleTickParams.Validate get ErrInvalid and nothing is
	// written.
	ScheduleTick(ctx context.Context, p *ScheduleTickParams) (*ScheduleTickResult, error)
}

// ErrScheduleNotFound: no schedule has that name.
var ErrScheduleNotFound = fmt.Errorf("storage: schedule not found")

// Schedule is a stored schedule of a periodic job.
type Schedule struct {
	// Name identifies the schedule.
	Name string
	// Kind, Queue, Input, Priority, MaxAttempts and Timeout describe the
	// job each tick inserts.
	Kind        string
	Queue       string
	Input       []byte
	Priority    int
	MaxAttempts int
	Timeout     time.Duration
	// Spec says when the schedule ticks, in the runtime's notation
	// ("@every 15m0s", or a cron expression); TimeZone names the zone a
	// cron expression is read in ("" is UTC).
	Spec     string
	TimeZone string
	// Overlap and Missed are the runtime's policies for a tick whose
	// previous job is still active and for ticks missed while no server
	// ran; storage keeps them as given.
	Overlap string
	Missed  string
	// NextAt is the time of the next tick.
	NextAt time.Time
	// LastJobID is the job the latest tick inserted (zero when none has).
	LastJobID int64
	// CreatedAt and UpdatedAt are when the schedule was first stored and
	// last stored or advanced.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ScheduleUpsertParams stores one schedule. Its fields are those of
// Schedule; NextAt is the first tick of a new schedule, or of one whose
// Spec or TimeZone changed.
type ScheduleUpsertParams struct {
	Name        string
	Kind        string
	Queue       string
	Input       []byte
	Priority    int
	MaxAttempts int
	Timeout     time.Duration
	Spec        string
	TimeZone    string
	Overlap     string
	Missed      string
	NextAt      time.Time
	Now         time.Time
}

// Validate reports ErrInvalid, wrapped with the reason, when p cannot be
// stored: a name, kind or queue that is not a valid name (ValidName), an
// empty spec, no first tick, or a job that JobInsertParams.Validate
// refuses. Backends call it before writing anything.
func (p *ScheduleUpsertParams) Validate() error {
	switch {
	case !ValidName(p.Name):
		return fmt.Errorf("%w: schedule name %q: want %s", ErrInvalid, p.Name, NameRule)
	case p.Spec == "":
		return fmt.Errorf("%w: schedule %s: empty spec", ErrInvalid, p.Name)
	case p.NextAt.IsZero():
		return fmt.Errorf("%w: schedule %s: no next tick", ErrInvalid, p.Name)
	}
	for _, t := range []struct{ what, s string }{{"spec", p.Spec}, {"time zone", p.TimeZone}, {"overlap", p.Overlap}, {"missed", p.Missed}} {
		if err := checkText(t.what, t.s); err != nil {
			return err
		}
	}
	j := JobInsertParams{Kind: p.Kind, Queue: p.Queue, Input: p.Input, Priority: p.Priority, MaxAttempts: p.MaxAttempts, Timeout: p.Timeout}
	if err := j.Validate(); err != nil {
		return fmt.Errorf("schedule %s: %w", p.Name, err)
	}
	return nil
}

// ScheduleDeleteParams names the schedule to delete.
type ScheduleDeleteParams struct {
	Name string
}

// ScheduleListParams lists the schedules. It has no filter yet.
type ScheduleListParams struct{}

// ScheduleTickParams advances one schedule by one tick.
type ScheduleTickParams struct {
	Name string
	// From is the NextAt the caller read; the tick happens only while it
	// is still stored.
	From time.Time
	// To is the schedule's new NextAt.
	To time.Time
	// Job is the tick's job; nil advances the schedule without inserting
	// one (a skipped tick).
	Job *JobInsertParams
	Now time.Time
}

// Validate reports ErrInvalid, wrapped with the reason, when p's job fails
// JobInsertParams.Validate or has a unique window (UniqueFor): a tick's
// job is unique only while active. Backends call it before writing.
func (p *ScheduleTickParams) Validate() error {
	if p.Job == nil {
		return nil
	}
	if p.Job.UniqueFor != 0 {
		return fmt.Errorf("%w: tick of schedule %s: a scheduled job has no unique window", ErrInvalid, p.Name)
	}
	return p.Job.Validate()
}

// ScheduleTickResult says what a tick did.
type ScheduleTickResult struct {
	// Advanced reports that this call moved the schedule from From to To;
	// false when another call did first, or the schedule is gone.
	Advanced bool
	// Job is the insert's result when Advanced and a job was given: the
	// new job, or, with Duplicate set, the active job holding its unique
	// key.
	Job *JobInsertResult
}
