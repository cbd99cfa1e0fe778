package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/dashboard"
	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBatch(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-backend", "memory"},
		{"-db", filepath.Join(t.TempDir(), "jobs.db")}, // the default backend, SQLite
	} {
		var out, errOut bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		code := run(ctx, args, &out, &errOut)
		cancel()
		if code != 0 {
			t.Fatalf("run %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out.String(), errOut.String())
		}
		for _, want := range []string{"10 jobs in", "all jobs ended as expected", "sum of squares 22140", "crunch                     100%", "schedule heartbeat (@every 300ms, queue maintenance) fired"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("run %v: output lacks %q:\n%s", args, want, out.String())
			}
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-nope"}, {"-scale", "0"}, {"-trace", "jaeger"}} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("run %v: exit %d, want 2", args, code)
		}
	}
	if code := run(context.Background(), []string{"-backend", "tape"}, io.Discard, io.Discard); code != 1 {
		t.Errorf("unknown backend: exit %d, want 1", code)
	}
}

// TestHTTP drives the HTTP API over a memory-backed server.
func TestHTTP(t *testing.T) {
	t.Parallel()
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := example.Register(srv, &example.Service{Sender: example.SenderFunc(func(context.Context, string, string) error { return nil })}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	dash, err := dashboard.New(srv.Client(), &dashboard.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(newHandler(srv.Client(), http.NotFoundHandler(), dash))
	defer ts.Close()
	defer dash.Close()

	call := func(method, path, body string, wantStatus int) map[string]any {
		t.Helper()
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: status %d, want %d: %v", method, path, resp.StatusCode, wantStatus, v)
		}
		return v
	}

	sub := call("POST", "/jobs/report", `{"title":"t","lines":[{"product":"p","quantity":2,"price":1.5}]}`, http.StatusAccepted)
	id := int64(sub["id"].(float64))
	res := call("GET", "/jobs/"+itoa(id)+"/wait?timeout=20s", "", http.StatusOK)
	if out := res["output"].(map[string]any); out["total"].(float64) != 3 {
		t.Fatalf("report output %v, want total 3", out)
	}
	if job := call("GET", "/jobs/"+itoa(id), "", http.StatusOK); job["state"] != "completed" || job["kind"] != "report" {
		t.Fatalf("job %v", job)
	}
	call("POST", "/jobs/"+itoa(id)+"/abort", "", http.StatusConflict) // already finished

	long := call("POST", "/jobs/crunch", `{"steps":1000,"step_delay":10000000}`, http.StatusAccepted)
	lid := itoa(int64(long["id"].(float64)))
	call("POST", "/jobs/"+lid+"/abort", "", http.StatusOK)
	if v := call("GET", "/jobs/"+lid+"/wait", "", http.StatusConflict); !strings.Contains(v["error"].(string), "aborted") {
		t.Fatalf("wait of an aborted job: %v", v)
	}

	failed := call("POST", "/jobs/send_message", `{"to":"","body":"x"}`, http.StatusAccepted)
	call("GET", "/jobs/"+itoa(int64(failed["id"].(float64)))+"/wait", "", http.StatusConflict)

	call("POST", "/jobs/nope", `{}`, http.StatusNotFound)
	call("POST", "/jobs/report", `{"title":`, http.StatusBadRequest)
	call("GET", "/jobs/abc", "", http.StatusBadRequest)
	call("GET", "/jobs/999999", "", http.StatusNotFound)
	call("GET", "/jobs/"+itoa(id)+"/wait?timeout=forever", "", http.StatusBadRequest)

	// The dashboard beside the API, on the same client. A path may carry a
	// form after a space.
	page := func(method, path string, header http.Header, wantStatus int) string {
		t.Helper()
		path, form, _ := strings.Cut(path, " ")
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		maps.Copy(req.Header, header)
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: status %d, want %d:\n%s", method, path, resp.StatusCode, wantStatus, b)
		}
		return string(b)
	}
	if loc := page("GET", "/", nil, http.StatusSeeOther); !strings.Contains(loc, "/dashboard/") {
		t.Errorf("GET /: %s", loc)
	}
	if body := page("GET", "/dashboard/", nil, http.StatusOK); !strings.Contains(body, `data-queue="reports"`) {
		t.Errorf("dashboard queues page lacks the reports queue:\n%s", body)
	}
	if body := page("GET", "/dashboard/jobs?kind=report", nil, http.StatusOK); !strings.Contains(body, `<tr data-job="`+itoa(id)+`">`) {
		t.Errorf("dashboard jobs page lacks job %d:\n%s", id, body)
	}
	if body := page("GET", "/dashboard/jobs/"+itoa(id), nil, http.StatusOK); !strings.Contains(body, "&#34;total&#34;: 3") {
		t.Errorf("dashboard job page lacks the output:\n%s", body)
	}
	page("POST", "/dashboard/queues/pause queue=reports", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden)
	if qs, _ := srv.Client().Queues(context.Background()); slices.ContainsFunc(qs, func(q runtime.QueueInfo) bool { return q.Paused }) {
		t.Errorf("a cross-site pause paused a queue: %+v", qs)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTelemetry serves the HTTP API with -trace stdout, runs a job, finds
// the jobgen counters on /metrics, and its spans on stdout once the
// command ends.
func TestTelemetry(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-backend", "memory", "-http", "127.0.0.1:0", "-trace", "stdout"}, &out, &errOut)
	}()
	base := out.waitFor(t, regexp.MustCompile(`serving on (http://\S+)`), done)[1]

	resp, err := http.Post(base+"/jobs/report", "application/json", strings.NewReader(`{"title":"t","lines":[{"product":"p","quantity":2,"price":1.5}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var sub submitted
	err = json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: status %d, %v", resp.StatusCode, err)
	}
	if resp, err = http.Get(base + "/jobs/" + itoa(sub.ID) + "/wait?timeout=20s"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("wait: %v %v", resp, err)
	}
	resp.Body.Close()

	// The counters are read from events after the wait returned: look
	// again until they are there.
	want := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^jobgen_jobs_submitted_total\{[^}]*jobgen_kind="report"[^}]*messaging_destination_name="reports"[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^jobgen_jobs_completed_total\{[^}]*jobgen_kind="report"[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^jobgen_job_run_duration_seconds_count\{[^}]*jobgen_outcome="completed"[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^jobgen_queue_depth\{[^}]*messaging_destination_name="reports"[^}]*\} 0$`),
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		body := get(t, base+"/metrics")
		missing := ""
		for _, re := range want {
			if !re.MatchString(body) {
				missing += "\n" + re.String()
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks%s\n%s", missing, body)
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}

	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut.String())
	}
	for _, name := range []string{`"Name": "publish reports"`, `"Name": "process reports"`} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("stdout lacks the span %s:\n%s", name, out.String())
		}
	}
}

// get returns the body of a GET of url.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// syncBuffer is a buffer that one goroutine writes and another reads.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{} // closed and replaced on every write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.wrote != nil {
		close(b.wrote)
		b.wrote = nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor returns the submatches of re once the buffer holds a match; it
// fails the test when the command ends (done) or a minute passes first.
func (b *syncBuffer) waitFor(t *testing.T, re *regexp.Regexp, done <-chan int) []string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		b.mu.Lock()
		m := re.FindStringSubmatch(b.buf.String())
		if b.wrote == nil {
			b.wrote = make(chan struct{})
		}
		wrote := b.wrote
		b.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-wrote:
		case code := <-done:
			t.Fatalf("the command ended (exit %d) before printing %s:\n%s", code, re, b.String())
		case <-timeout:
			t.Fatalf("no %s after a minute:\n%s", re, b.String())
		}
	}
}
