package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

var (
	mailKind  = runtime.NewKind[noopArgs, runtime.NoOutput](runtime.KindOpts{Name: "mail", Queue: "mail"})
	mediaKind = runtime.NewKind[noopArgs, runtime.NoOutput](runtime.KindOpts{Name: "media", Queue: "media"})
)

// startWith starts a server over a fresh store with cfg and the mail and
// media kinds, stops it when the test ends, and returns Start's error.
func startWith(t *testing.T, cfg runtime.Config) error {
	t.Helper()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	srv, err := runtime.NewServer(store, cfg)
	if err != nil {
		return err
	}
	noop := runtime.NoOutputFunc(func(context.Context, *runtime.Job[noopArgs]) error { return nil })
	for _, k := range []*runtime.Kind[noopArgs, runtime.NoOutput]{mailKind, mediaKind} {
		if err := k.Register(srv, noop); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	return srv.Start(context.Background())
}

func TestStartFailsOnAQueueLeftOut(t *testing.T) {
	t.Parallel()
	err := startWith(t, runtime.Config{Queues: map[string]runtime.QueueConfig{"mail": {}}})
	var qe *runtime.QueueNotWorkedError
	if !errors.As(err, &qe) || qe.Kind != "media" || qe.Queue != "media" || !errors.Is(err, runtime.ErrInvalidOption) {
		t.Fatalf("Start: %v, want a *QueueNotWorkedError for kind media", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "SkipQueues") {
		t.Errorf("Start: %q does not say how to skip the queue on purpose", msg)
	}
	// Every kind left out is named.
	err = startWith(t, runtime.Config{Queues: map[string]runtime.QueueConfig{"other": {}}})
	if msg := err.Error(); !strings.Contains(msg, "kind mail") || !strings.Contains(msg, "kind media") {
		t.Errorf("Start: %q, want both kinds named", msg)
	}
}

func TestSkipQueues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  runtime.Config
		want error // nil: Start succeeds
	}{
		{"skip what Queues leaves out", runtime.Config{Queues: map[string]runtime.QueueConfig{"mail": {}}, SkipQueues: []string{"media"}}, nil},
		{"skip from the default queues", runtime.Config{SkipQueues: []string{"media"}}, nil},
		{"skip every queue", runtime.Config{SkipQueues: []string{"mail", "media"}}, runtime.ErrInvalidOption},
		{"work and skip one queue", runtime.Config{Queues: map[string]runtime.QueueConfig{"mail": {}, "media": {}}, SkipQueues: []string{"media"}}, runtime.ErrInvalidOption},
		{"skip an invalid name", runtime.Config{SkipQueues: []string{"Bad Name"}}, runtime.ErrInvalidName},
	} {
		if err := startWith(t, tc.cfg); (tc.want == nil) != (err == nil) || !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
