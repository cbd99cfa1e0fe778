package runtimetest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// logRecord is one record a captureHandler kept.
type logRecord struct {
	level slog.Level
	msg   string
	jobID int64 // the "job_id" attribute; 0 when there is none
	attrs map[string]slog.Value
}

// captureHandler keeps every record logged through it.
type captureHandler struct {
	mu   sync.Mutex
	recs []logRecord
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: make(map[string]slog.Value)}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Resolve()
		if a.Key == "job_id" {
			rec.jobID = a.Value.Int64()
		}
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, rec)
	h.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

// about returns the records about job id whose message contains word.
func (h *captureHandler) about(id int64, word string) []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logRecord
	for _, r := range h.recs {
		if r.jobID == id && strings.Contains(r.msg, word) {
			out = append(out, r)
		}
	}
	return out
}

// warnings returns the records about job id at level warn or above.
func warnings(recs []logRecord) []logRecord {
	var out []logRecord
	for _, r := range recs {
		if r.level >= slog.LevelWarn {
			out = append(out, r)
		}
	}
	return out
}

// lateBeatStore holds a heartbeat back until the outcome write that races
// it has committed, and that write's return until the test lets it go.
type lateBeatStore struct {
	storage.Storage
	inBeat               chan struct{} // closed when the heartbeat arrives
	committed            chan struct{} // closed once the outcome write committed
	finishGo             chan struct{} // closed by the test: the write returns
	beatOnce, finishOnce sync.Once
}

func (s *lateBeatStore) JobHeartbeat(ctx context.Context, p *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	s.beatOnce.Do(func() {
		close(s.inBeat)
		<-s.committed
	})
	return s.Storage.JobHeartbeat(ctx, p)
}

func (s *lateBeatStore) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	res, err := s.Storage.JobFinish(ctx, p)
	s.finishOnce.Do(func() {
		close(s.committed)
		<-s.finishGo
	})
	return res, err
}

// testNoFalseLeaseAlarm: a heartbeat that reaches storage after the job's
// outcome write committed finds the lease gone. That is no loss: the job
// completed, and nothing warns about its lease.
func testNoFalseLeaseAlarm(t *testing.T, newStore NewStore) {
	fc := newFakeClock()
	logs := &captureHandler{}
	st := &lateBeatStore{inBeat: make(chan struct{}), committed: make(chan struct{}), finishGo: make(chan struct{})}
	letGo := sync.OnceFunc(func() { close(st.finishGo) })
	t.Cleanup(letGo)
	started, release := make(chan int64, 1), make(chan struct{})
	cfg := runtime.Config{Clock: fc, PollInterval: slowPoll, Logger: slog.New(logs)}
	e := newLoopEnv(t, func(t *testing.T) storage.Storage { st.Storage = newStore(t); return st }, cfg, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			<-release
			return Result{N: 1}, nil
		})
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	blockUntil(t, fc, idleWaiters(e))            // the heartbeat ticker is armed
	fc.Advance(runtime.DefaultLeaseDuration / 3) // a heartbeat round
	recv(t, st.inBeat, "the heartbeat")
	close(release) // the job completes; its write commits before the heartbeat reads
	recv(t, st.committed, "the outcome write")
	// The heartbeat's answer is handled before the write returns; either
	// record says it was.
	eventually(t, "the heartbeat's answer", func() bool { return len(logs.about(h.ID, "lease")) > 0 })
	letGo()
	if res := must(h.Wait(ctxT(t))); res.N != 1 {
		t.Fatalf("result %d, want 1", res.N)
	}
	if w := warnings(logs.about(h.ID, "")); len(w) > 0 {
		t.Fatalf("warnings about a job that completed: %+v", w)
	}
}

// testLeaseLossLoggedOnce: a lease really lost (another claim took the job)
// is logged once, by the heartbeat that finds it, and the cancelled run
// writes nothing and warns no more.
func testLeaseLossLoggedOnce(t *testing.T, newStore NewStore) {
	fc := newFakeClock()
	logs := &captureHandler{}
	started, causes := make(chan int64, 1), make(chan error, 1)
	cfg := runtime.Config{Clock: fc, PollInterval: slowPoll, Logger: slog.New(logs)}
	e := newLoopEnv(t, newStore, cfg, func(s *runtime.Server) {
		register(t, s, work, blockUntilCancelled(started, causes))
	})
	e.start()
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	takeOver(t, e, h.ID, fc.Now().Add(time.Hour))
	blockUntil(t, fc, idleWaiters(e))            // the heartbeat ticker is armed
	fc.Advance(runtime.DefaultLeaseDuration / 3) // a heartbeat round
	if cause := recv(t, causes, "handler cancellation"); !errors.Is(cause, runtime.ErrLeaseLost) {
		t.Fatalf("handler context cause %v, want ErrLeaseLost", cause)
	}
	eventually(t, "the stale run to be released", func() bool { return e.srv.Running() == 0 })
	w := warnings(logs.about(h.ID, ""))
	if len(w) != 1 || !strings.Contains(w[0].msg, "lease lost") {
		t.Fatalf("warnings about the lost job: %+v, want one saying the lease was lost", w)
	}
	checkJobAttrs(t, w[0], h.ID, work.Name(), 1)
}
