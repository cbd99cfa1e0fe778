package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

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
		for _, want := range []string{"10 jobs in", "all jobs ended as expected", "sum of squares 22140", "crunch                     100%"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("run %v: output lacks %q:\n%s", args, want, out.String())
			}
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-nope"}, {"-scale", "0"}} {
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
	ts := httptest.NewServer(newHandler(srv.Client()))
	defer ts.Close()

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
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
