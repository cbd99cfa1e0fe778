package runtimetest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// checkJobAttrs reports a log record about a job that does not carry the
// job's id, kind, queue and attempt under the runtime's attribute names.
func checkJobAttrs(t *testing.T, r logRecord, id int64, kind string, attempt int) {
	t.Helper()
	a := r.attrs
	if a["job_id"].Int64() != id || a["kind"].String() != kind || a["queue"].String() != runtime.DefaultQueue || a["attempt"].Int64() != int64(attempt) {
		t.Errorf("record %q: attributes %v, want job_id %d, kind %s, queue %s, attempt %d", r.msg, a, id, kind, runtime.DefaultQueue, attempt)
	}
}

// only returns the one record about job id whose message contains word,
// waiting for it, and fails the test when there are more.
func (h *captureHandler) only(t *testing.T, id int64, word string) logRecord {
	t.Helper()
	eventually(t, "a record about job "+word, func() bool { return len(h.about(id, word)) > 0 })
	recs := h.about(id, word)
	if len(recs) != 1 {
		t.Fatalf("%d records about job %d saying %q, want 1: %+v", len(recs), id, word, recs)
	}
	return recs[0]
}

// testLogJobFailed: a failed job is logged once at Warn with its identity,
// its code and its error.
func testLogJobFailed(t *testing.T, newStore NewStore) {
	logs := &captureHandler{}
	e := newEnv(t, newStore, runtime.Config{Logger: slog.New(logs)}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) { return Result{}, errTest })
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{MaxAttempts: new(1)}))
	if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrFailed) {
		t.Fatalf("Wait: %v, want ErrFailed", err)
	}
	r := logs.only(t, h.ID, "job failed")
	checkJobAttrs(t, r, h.ID, work.Name(), 1)
	if r.level != slog.LevelWarn || r.attrs["err"].String() != errTest.Error() || r.attrs["code"].String() != runtime.CodeError {
		t.Errorf("job failed record: level %v, attributes %v; want Warn with err %q and code %q", r.level, r.attrs, errTest, runtime.CodeError)
	}
}

// testLogPanicOnce: each panic of a handler is logged once, at Error, with
// its stack and the job's identity; the lines about the retry and the
// failure it caused do not repeat it.
func testLogPanicOnce(t *testing.T, newStore NewStore) {
	logs := &captureHandler{}
	e := newEnv(t, newStore, runtime.Config{Logger: slog.New(logs)}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			panicInHandler()
			return Result{}, nil
		})
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{MaxAttempts: new(2)}))
	if _, err := h.Wait(ctxT(t)); !errors.Is(err, runtime.ErrFailed) {
		t.Fatalf("Wait: %v, want ErrFailed", err)
	}
	failed := logs.only(t, h.ID, "job failed")
	if failed.attrs["code"].String() != runtime.CodePanic {
		t.Errorf("job failed record: attributes %v, want code %q", failed.attrs, runtime.CodePanic)
	}
	var withStack []logRecord
	for _, r := range logs.about(h.ID, "") {
		for _, v := range r.attrs {
			if strings.Contains(v.String(), "panicInHandler") {
				withStack = append(withStack, r)
				break
			}
		}
	}
	if len(withStack) != 2 {
		t.Fatalf("%d records show the panic's stack, want one for each of 2 attempts: %+v", len(withStack), withStack)
	}
	for i, r := range withStack {
		checkJobAttrs(t, r, h.ID, work.Name(), i+1)
		if r.level != slog.LevelError || !strings.Contains(r.msg, "handler panicked") || r.attrs["panic"].String() != "boom" ||
			!strings.Contains(r.attrs["stack"].String(), "panicInHandler") {
			t.Errorf("panic record %q: level %v, attributes %v; want Error with the panic and its stack", r.msg, r.level, r.attrs)
		}
	}
}

// finishRefusingStore refuses every outcome write entry by entry, as a
// database refusing the values would.
type finishRefusingStore struct{ storage.Storage }

var errRefusedWrite = errors.New("the database refused the value")

func (s finishRefusingStore) JobFinish(_ context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	res := &storage.JobFinishResult{Applied: make([]bool, len(p.Jobs))}
	for i := range p.Jobs {
		res.SetErr(i, errRefusedWrite)
	}
	return res, nil
}

// testLogOutcomeWriteFailed: an outcome that cannot be written is logged at
// Error with the job's identity and the storage's error.
func testLogOutcomeWriteFailed(t *testing.T, newStore NewStore) {
	logs := &captureHandler{}
	refusing := func(t *testing.T) storage.Storage { return finishRefusingStore{newStore(t)} }
	e := newEnv(t, refusing, runtime.Config{Logger: slog.New(logs)}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) { return Result{}, nil })
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	r := logs.only(t, h.ID, "outcome failed")
	checkJobAttrs(t, r, h.ID, work.Name(), 1)
	if r.level != slog.LevelError || !strings.Contains(r.attrs["err"].String(), errRefusedWrite.Error()) {
		t.Errorf("outcome write record: level %v, attributes %v; want Error with the storage's error as err", r.level, r.attrs)
	}
}
