package jobgentest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/clock"
	"github.com/jobgen/jobgen/runtime/storage"
)

// Outcome is how one run of a job ended: what a server would write.
type Outcome int

// The outcomes of a run.
const (
	// Completed: the handler returned its output.
	Completed Outcome = iota + 1
	// Retried: the job goes back to pending and runs again after
	// Result.RetryAfter, using an attempt (an error, a panic, a timeout,
	// runtime.RetryAfter).
	Retried
	// Failed: the job failed for good (runtime.Permanent, an undecodable
	// input, or its last attempt failed).
	Failed
	// Released: the job goes back to pending without using an attempt and
	// runs again after Result.RetryAfter (runtime.HoldQueue).
	Released
	// Aborted: the job was aborted.
	Aborted
	// Snoozed: the handler returned runtime.Snooze: the job goes back to
	// pending without using an attempt and runs again after
	// Result.RetryAfter, and the run is not a failure.
	Snoozed
)

func (o Outcome) String() string {
	switch o {
	case Completed:
		return "completed"
	case Retried:
		return "retried"
	case Failed:
		return "failed"
	case Released:
		return "released"
	case Aborted:
		return "aborted"
	case Snoozed:
		return "snoozed"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result is what Run returns.
type Result[Out any] struct {
	// Output is the handler's output, encoded and decoded as WaitFor
	// returns it; the zero value unless the run completed.
	Output Out
	// Outcome is how the run ended.
	Outcome Outcome
	// RetryAfter is how long the job waits before it runs again when it
	// was Retried, Released or Snoozed.
	RetryAfter time.Duration
	// Code is the stored error code (runtime.CodeError, CodePanic,
	// CodeTimeout, CodePermanent, CodeDecode); empty when it completed.
	Code string
	// Err is the handler's error, nil when it completed (a snooze's is the
	// *runtime.SnoozeError it returned).
	Err error
}

// Option changes the attempt Run runs.
type Option func(*runtime.Attempt)

// Attempt makes the run the n-th attempt (from 1) of the job, so that the
// last one, n equal to the kind's attempts, fails instead of retrying.
func Attempt(n int) Option { return func(a *runtime.Attempt) { a.Attempt = n } }

// MaxAttempts overrides the kind's number of attempts.
func MaxAttempts(n int) Option { return func(a *runtime.Attempt) { a.MaxAttempts = n } }

// Timeout overrides the kind's per-run timeout; zero means none.
func Timeout(d time.Duration) Option { return func(a *runtime.Attempt) { a.Timeout = &d } }

// Clock runs the attempt on c (see NewClock).
func Clock(c clock.Clock) Option { return func(a *runtime.Attempt) { a.Clock = c } }

// Run runs one job of kind k with arguments args through h, on the
// calling goroutine, the way a server's worker runs it (see
// runtime.RunOnce), and returns its typed output and outcome. It fails t
// only when the run could not be made (args that do not encode, a nil
// handler, an output that does not decode).
func Run[In, Out any](t testing.TB, k *runtime.Kind[In, Out], h runtime.HandlerFunc[In, Out], args In, opts ...Option) Result[Out] {
	t.Helper()
	var a runtime.Attempt
	for _, o := range opts {
		o(&a)
	}
	f, err := runtime.RunOnce(context.Background(), k, h, args, a)
	if f.Outcome == 0 {
		t.Fatalf("jobgentest: run %s: %v", k.Name(), err)
	}
	r := Result[Out]{Code: f.ErrorCode, Err: err, RetryAfter: f.RetryDelay}
	switch f.Outcome {
	case storage.OutcomeComplete:
		r.Outcome = Completed
		if len(f.Output) > 0 {
			if err := json.Unmarshal(f.Output, &r.Output); err != nil {
				t.Fatalf("jobgentest: run %s: decode output: %v", k.Name(), err)
			}
		}
	case storage.OutcomeRetry:
		r.Outcome = Retried
	case storage.OutcomeFail:
		r.Outcome = Failed
	case storage.OutcomeRelease:
		// A server writes a snooze as a release too, and tells them apart
		// by the handler's error, as this does.
		r.Outcome = Released
		if sn := (*runtime.SnoozeError)(nil); errors.As(err, &sn) {
			r.Outcome = Snoozed
		}
	case storage.OutcomeAbort:
		r.Outcome = Aborted
	default:
		t.Fatalf("jobgentest: run %s: unknown outcome %v", k.Name(), f.Outcome)
	}
	return r
}

// NewClock returns a clock that moves only when the test advances it, for
// deferred jobs and retries: give it to runtime.Config.Clock and
// runtime.ClientConfig.Clock (storage then sees its time too), and to Run
// with Clock.
func NewClock(t0 time.Time) *clock.Fake { return clock.NewFake(t0) }
