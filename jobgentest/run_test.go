package jobgentest_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/jobgentest"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type args struct {
	N int `json:"n"`
}

type result struct {
	Double int `json:"double"`
}

var kind = runtime.NewKind[args, result](runtime.KindOpts{Name: "double", MaxAttempts: 3, Timeout: time.Second, Backoff: runtime.ExponentialBackoff(time.Second)})

// TestRunOutcomes: each way a handler can end is classified as a server's
// worker classifies it.
func TestRunOutcomes(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		h       runtime.HandlerFunc[args, result]
		opts    []jobgentest.Option
		outcome jobgentest.Outcome
		code    string
		retry   time.Duration
	}{
		{"Completed", func(_ context.Context, j *runtime.Job[args]) (result, error) {
			return result{Double: 2 * j.Args.N}, nil
		}, nil, jobgentest.Completed, "", 0},
		{"ErrorRetriesWithBackoff", func(context.Context, *runtime.Job[args]) (result, error) { return result{}, boom }, nil, jobgentest.Retried, runtime.CodeError, time.Second},
		{"RetryAfter", func(context.Context, *runtime.Job[args]) (result, error) {
			return result{}, runtime.RetryAfter(time.Minute, boom)
		}, nil, jobgentest.Retried, runtime.CodeError, time.Minute},
		{"LastAttemptFails", func(context.Context, *runtime.Job[args]) (result, error) { return result{}, boom }, []jobgentest.Option{jobgentest.Attempt(3)}, jobgentest.Failed, runtime.CodeError, 0},
		{"Permanent", func(context.Context, *runtime.Job[args]) (result, error) { return result{}, runtime.Permanent(boom) }, nil, jobgentest.Failed, runtime.CodePermanent, 0},
		{"Panic", func(context.Context, *runtime.Job[args]) (result, error) { panic("oops") }, nil, jobgentest.Retried, runtime.CodePanic, time.Second},
		{"Timeout", func(ctx context.Context, _ *runtime.Job[args]) (result, error) {
			<-ctx.Done()
			return result{}, context.Cause(ctx)
		}, []jobgentest.Option{jobgentest.Timeout(time.Millisecond)}, jobgentest.Retried, runtime.CodeTimeout, time.Second},
		{"HoldQueue", func(context.Context, *runtime.Job[args]) (result, error) {
			return result{}, runtime.HoldQueueFor(time.Hour, boom)
		}, nil, jobgentest.Released, "", time.Hour},
		{"Snooze", func(context.Context, *runtime.Job[args]) (result, error) {
			return result{}, runtime.Snooze(time.Hour)
		}, nil, jobgentest.Snoozed, "", time.Hour},
		{"SnoozeOnLastAttempt", func(context.Context, *runtime.Job[args]) (result, error) {
			return result{}, runtime.Snooze(30 * time.Minute)
		}, []jobgentest.Option{jobgentest.Attempt(3)}, jobgentest.Snoozed, "", 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := jobgentest.Run(t, kind, tc.h, args{N: 21}, tc.opts...)
			if res.Outcome != tc.outcome || res.Code != tc.code {
				t.Fatalf("outcome %v code %q (err %v), want %v %q", res.Outcome, res.Code, res.Err, tc.outcome, tc.code)
			}
			if tc.retry != 0 && (res.RetryAfter < tc.retry/2 || res.RetryAfter > 2*tc.retry) {
				t.Errorf("RetryAfter %v, want about %v", res.RetryAfter, tc.retry)
			}
			switch {
			case tc.outcome == jobgentest.Completed && (res.Err != nil || res.Output.Double != 42):
				t.Errorf("completed with %+v, %v; want 42 and no error", res.Output, res.Err)
			case tc.outcome != jobgentest.Completed && res.Err == nil:
				t.Error("no error for a run that did not complete")
			}
		})
	}
}

// TestRunJob: the handler gets the job's identity and the decoded
// arguments; with a fake clock, a hold until a time lasts until then on
// that clock.
func TestRunJob(t *testing.T) {
	fc := jobgentest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	res := jobgentest.Run(t, kind, func(_ context.Context, j *runtime.Job[args]) (result, error) {
		if j.Attempt != 2 || j.MaxAttempts != 3 || j.Kind != "double" || j.Args.N != 5 {
			t.Errorf("job %+v, want attempt 2 of 3 of kind double with N 5", j)
		}
		return result{}, runtime.HoldQueue(fc.Now().Add(10*time.Minute), errors.New("rate limited"))
	}, args{N: 5}, jobgentest.Attempt(2), jobgentest.Clock(fc))
	if res.Outcome != jobgentest.Released || res.RetryAfter != 10*time.Minute {
		t.Fatalf("outcome %v after %v, want released after 10m", res.Outcome, res.RetryAfter)
	}
}

// TestSubmitted: the assertions read a store, and a transaction's view
// before it commits.
func TestSubmitted(t *testing.T) {
	store := memory.New()
	c, err := runtime.NewClient(store, runtime.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	jobgentest.RequireNotSubmitted(t, store, kind, nil)
	for _, n := range []int{1, 2, 2} {
		if _, err := kind.Submit(t.Context(), c, args{N: n}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if info := jobgentest.RequireSubmitted(t, store, kind, jobgentest.Equal(args{N: 2})); info.Args.N != 2 {
		t.Fatalf("matched %+v", info.Args)
	}
	jobgentest.RequireSubmittedN(t, store, kind, jobgentest.Equal(args{N: 2}), 2)
	jobgentest.RequireSubmittedN(t, store, kind, nil, 3)
	jobgentest.RequireNotSubmitted(t, store, kind, jobgentest.Equal(args{N: 3}))

	db, err := sqlite.Open(filepath.Join(t.TempDir(), "jobs.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sc, err := runtime.NewClient(db, runtime.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	tx, err := db.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := kind.Submit(runtime.InTx(t.Context(), tx.Jobs()), sc, args{N: 7}, nil); err != nil {
		t.Fatal(err)
	}
	jobgentest.RequireSubmitted(t, tx.Jobs(), kind, jobgentest.Equal(args{N: 7}))
	jobgentest.RequireNotSubmitted(t, db, kind, nil)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	jobgentest.RequireSubmittedN(t, db, kind, nil, 1)
}
