package dashboard

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Work is the tests' job: it runs until its test says what to do.
type Work struct {
	Text string `json:"text"`
	// Fail makes the job fail at once, permanently.
	Fail bool `json:"fail,omitempty"`
	// Block makes the job run until the test's steps channel closes,
	// reporting each step as its progress.
	Block bool `json:"block,omitempty"`
}

// WorkResult is Work's output.
type WorkResult struct {
	Echo string `json:"echo"`
}

var workKind = runtime.NewKind[Work, WorkResult](runtime.KindOpts{Name: "work", Queue: "default", MaxAttempts: 1})

// idleKind's jobs go to a queue no test server works, so they stay pending.
var idleKind = runtime.NewKind[Work, runtime.NoOutput](runtime.KindOpts{Name: "idle", Queue: "parked"})

// env is one test's server, client, dashboard and HTTP server.
type env struct {
	t      *testing.T
	srv    *runtime.Server
	client *runtime.Client
	dash   *Handler
	ts     *httptest.Server
	// steps drives the blocking jobs: each value is a progress report, and
	// closing it lets them complete.
	steps chan float64
}

// setupOn starts a server with workKind's handler over store and serves a
// dashboard with opts at the root of a test HTTP server.
func setupOn(t *testing.T, store storage.Storage, opts *Options) *env {
	t.Helper()
	srv, err := runtime.NewServer(store, runtime.Config{Logger: slog.New(slog.DiscardHandler), PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, client: srv.Client(), steps: make(chan float64)}
	err = workKind.Register(srv, func(ctx context.Context, job *runtime.Job[Work]) (WorkResult, error) {
		if job.Args.Fail {
			return WorkResult{}, runtime.Permanent(errors.New("boom: " + job.Args.Text))
		}
		for job.Args.Block {
			select {
			case p, ok := <-e.steps:
				if !ok {
					return WorkResult{Echo: job.Args.Text}, nil
				}
				job.ReportProgress(p, "step")
			case <-ctx.Done():
				return WorkResult{}, ctx.Err()
			}
		}
		return WorkResult{Echo: job.Args.Text}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.StopAndCancel(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e.dash, err = New(e.client, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.dash)
	t.Cleanup(e.ts.Close)
	t.Cleanup(func() { e.dash.Close() }) // first: it ends the open streams
	return e
}

// setup is setupOn over a new memory store.
func setup(t *testing.T, opts *Options) *env {
	t.Helper()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	return setupOn(t, store, opts)
}

// submit submits w and returns the job's id.
func (e *env) submit(w Work) int64 {
	e.t.Helper()
	h, err := workKind.Submit(context.Background(), e.client, w, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return h.ID
}

// waitState waits until job id is in state st: it reads the job again at
// each of its events, and every 50ms for changes made elsewhere.
func (e *env) waitState(id int64, st storage.State) *storage.Job {
	e.t.Helper()
	changed := make(chan struct{}, 1)
	cancel := e.client.Subscribe(func(ev runtime.Event) {
		if ev.JobID == id {
			latch(changed)
		}
	})
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		job, err := e.client.Get(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		if job.State == st {
			return job
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-deadline:
			e.t.Fatalf("job %d is %s, want %s", id, job.State, st)
		}
	}
}

// addNightly stores the schedule "nightly" of idleKind, which ticks at
// 02:30 in Paris: no test sees it tick.
func (e *env) addNightly() {
	e.t.Helper()
	if _, err := idleKind.AddSchedule(context.Background(), e.client, "nightly", runtime.Cron("30 2 * * *"), Work{Text: "report"}, &runtime.ScheduleOpts{TimeZone: "Europe/Paris"}); err != nil {
		e.t.Fatal(err)
	}
}

// waitLastJob waits until a tick of schedule name has inserted a job, and
// returns its id: it reads the schedules every 50ms.
func (e *env) waitLastJob(name string) int64 {
	e.t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		scs, err := e.client.ListSchedules(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		for _, sc := range scs {
			if sc.Name == name && sc.LastJobID != 0 {
				return sc.LastJobID
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			e.t.Fatalf("no tick of schedule %s inserted a job", name)
		}
	}
}

// get fetches path (relative to the dashboard's root) and returns the
// status and body.
func (e *env) get(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.ts.URL + "/" + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// post posts the form to path with the given headers and returns the
// response, its body read.
func (e *env) post(path, form string, header map[string]string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+"/"+path, strings.NewReader(form))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// newTestLogger logs to w.
func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
