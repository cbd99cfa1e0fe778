package runtimetest

import (
	"context"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

func testProgressNoWrites(t *testing.T, newStore NewStore) {
	started, proceed := make(chan int64, 1), make(chan struct{})
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			<-proceed
			for i := 1; i <= 3; i++ {
				j.ReportProgress(float64(i*25), "step")
			}
			return Result{N: 1}, nil
		})
	})
	e.start()
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	updates, cancel := h.Progress()
	defer cancel()
	writes := e.store.writes()
	close(proceed)
	var got []float64
	for p := range updates { // closed when the job finishes
		got = append(got, p.Percent)
	}
	if len(got) == 0 || got[len(got)-1] != 75 {
		t.Fatalf("progress updates %v, want to end at 75", got)
	}
	// Events: three progress events, then completed.
	var kinds []runtime.EventKind
	for len(kinds) == 0 || !kinds[len(kinds)-1].Terminal() {
		if ev := recv(t, evs, "events"); ev.JobID == h.ID && ev.Kind != runtime.EventSubmitted && ev.Kind != runtime.EventStarted {
			kinds = append(kinds, ev.Kind)
		}
	}
	want := []runtime.EventKind{runtime.EventProgress, runtime.EventProgress, runtime.EventProgress, runtime.EventCompleted}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
	// Between the claim and the finish the only write is the outcome.
	if n := e.store.writes() - writes; n != 1 {
		t.Fatalf("%d storage writes while the job reported progress and finished, want 1 (the outcome)", n)
	}
}

// testProgressEchoAfterFinish: the server hears its own published progress
// back through its subscription. A report heard after its job finished
// must not become a progress event after the job's terminal event.
func testProgressEchoAfterFinish(t *testing.T, newStore NewStore) {
	started, proceed := make(chan int64, 1), make(chan struct{})
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			started <- j.ID
			<-proceed
			j.ReportProgress(50, "half")
			return Result{}, nil
		})
	})
	if _, ok := e.store.Storage.(storage.Notifier); !ok {
		t.Skip("the store has no notifications")
	}
	// Hold the report back: the server's publish returns at once, as if
	// sent, and the test sends it only once the job has left the server,
	// as a notification slow to come back would arrive; then a marker
	// after it, which arrives after it.
	held := make(chan storage.Notification, 1)
	const marker = 1 << 40
	e.store.setPublish(func(n storage.Notification, publish func() error) error {
		held <- n // only the progress publisher publishes here, once
		return nil
	})
	e.start()
	evs := events(t, e.client)
	h := must(work.Submit(ctxT(t), e.client, Args{}, nil))
	recv(t, started, "job start")
	close(proceed)
	waitEvent(t, evs, h.ID, runtime.EventCompleted)
	eventually(t, "the job to leave the server", func() bool { return e.srv.Running() == 0 })
	notifier := e.store.Storage.(storage.Notifier)
	if err := notifier.Publish(ctxT(t), recv(t, held, "the progress report to be published")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := notifier.Publish(ctxT(t), storage.Notification{Kind: storage.NotifyProgress, JobID: marker, Payload: []byte(`{"percent":1}`)}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for ev := recv(t, evs, "events"); ev.JobID != marker; ev = recv(t, evs, "events") {
		if ev.JobID == h.ID && ev.Kind == runtime.EventProgress {
			t.Fatal("a progress event of the job came after its terminal event")
		}
	}
}
