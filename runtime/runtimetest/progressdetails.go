package runtimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// stepDetails is the details value of the progress tests.
type stepDetails struct {
	Step  int    `json:"step"`
	Notes string `json:"notes,omitempty"`
}

// largestDetails returns details whose encoding is as long as
// runtime.MaxProgressDetails allows, and that encoding.
func largestDetails() (stepDetails, json.RawMessage) {
	d := stepDetails{Step: 9}
	d.Notes = strings.Repeat("x", runtime.MaxProgressDetails-len(must(json.Marshal(d)))-len(`,"notes":""`))
	b := must(json.Marshal(d))
	if len(b) != runtime.MaxProgressDetails {
		panic("largestDetails: wrong length")
	}
	return d, b
}

// testProgressDetails: the details a handler reports reach a progress
// subscriber and the progress events of its process, encoded; details over
// the size bound or that do not encode are left out of their report, which
// still arrives, and the job completes.
func testProgressDetails(t *testing.T, newStore NewStore) {
	largest, largestJSON := largestDetails()
	tooLarge := stepDetails{Step: 10, Notes: largest.Notes + "x"}
	started, proceed := make(chan int64, 1), make(chan struct{})
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			<-proceed
			j.ReportProgressDetails(10, "one", stepDetails{Step: 1})
			j.ReportProgressDetails(20, "largest", largest)
			j.ReportProgressDetails(30, "too large", tooLarge)
			j.ReportProgressDetails(40, "unencodable", map[string]any{"ch": make(chan int)})
			j.ReportProgressDetails(50, "raw", json.RawMessage(`{"step": 5}`))
			j.ReportProgress(60, "plain")
			return Result{N: 1}, nil
		})
	})
	e.start()
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	updates, cancel := h.Progress()
	defer cancel()
	close(proceed)
	want := []runtime.Progress{
		{Percent: 10, Message: "one", Details: json.RawMessage(`{"step":1}`)},
		{Percent: 20, Message: "largest", Details: largestJSON},
		{Percent: 30, Message: "too large"},
		{Percent: 40, Message: "unencodable"},
		{Percent: 50, Message: "raw", Details: json.RawMessage(`{"step":5}`)},
		{Percent: 60, Message: "plain"},
	}
	var got []runtime.Progress
	for p := range updates { // closed when the job finishes
		got = append(got, p)
	}
	checkProgress(t, "subscription", got, want)
	got = got[:0]
	for {
		ev := recv(t, evs, "events")
		if ev.JobID != h.ID {
			continue
		}
		if ev.Kind == runtime.EventProgress {
			got = append(got, ev.Progress)
		}
		if ev.Kind.Terminal() {
			if ev.Kind != runtime.EventCompleted {
				t.Fatalf("job ended %v (%v), want completed", ev.Kind, ev.Err)
			}
			break
		}
	}
	checkProgress(t, "events", got, want)
}

// checkProgress fails the test unless got are the reports of want.
func checkProgress(t *testing.T, what string, got, want []runtime.Progress) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d progress reports, want %d: %v", what, len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Percent != w.Percent || g.Message != w.Message || !bytes.Equal(g.Details, w.Details) {
			t.Errorf("%s: report %d is %v %q details %.40q, want %v %q details %.40q", what, i, g.Percent, g.Message, g.Details, w.Percent, w.Message, w.Details)
		}
	}
}

// testCrossProgressDetails: the details of a progress report, up to the
// size bound, reach a detached client in another process.
func testCrossProgressDetails(t *testing.T, ss *stores) {
	if !ss.notify {
		t.Skip("progress crosses processes only through notifications")
	}
	largest, largestJSON := largestDetails()
	started, proceed, heard := make(chan int64, 1), make(chan struct{}), make(chan struct{})
	ss.worker(t, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
		started <- j.ID
		<-proceed
		j.ReportProgressDetails(10, "one", stepDetails{Step: 1})
		j.ReportProgressDetails(20, "largest", largest)
		select { // finish once the observer has heard, so its subscription is not closed first
		case <-heard:
		case <-ctx.Done():
		}
		return Result{}, nil
	})
	client, _ := ss.observer(t)
	h := must(work.Submit(ctxT(t), client, Args{}, nil))
	recv(t, started, "job start")
	updates, cancel := h.Progress()
	defer cancel()
	close(proceed)
	want := []runtime.Progress{
		{Percent: 10, Message: "one", Details: json.RawMessage(`{"step":1}`)},
		{Percent: 20, Message: "largest", Details: largestJSON},
	}
	var got []runtime.Progress
	timeout := time.After(deadline)
	for len(got) < len(want) {
		select {
		case p, ok := <-updates:
			if !ok {
				t.Fatalf("the subscription closed after %v", got)
			}
			got = append(got, p)
		case <-timeout:
			t.Fatalf("timed out waiting for progress from the other process (got %v)", got)
		}
	}
	close(heard)
	checkProgress(t, "other process", got, want)
	if _, err := h.Wait(ctxT(t)); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}
