package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

type noopArgs struct{}

var noopKind = runtime.NewKind[noopArgs, runtime.NoOutput](runtime.KindOpts{Name: "noop"})

func TestBackoffGrowsAndCaps(t *testing.T) {
	t.Parallel()
	b := runtime.ExponentialBackoff(time.Second)
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 40: time.Hour} {
		for range 100 {
			got := b(attempt)
			if got < want*9/10 || got > want*11/10 {
				t.Fatalf("attempt %d: %v, want %v ± 10%%", attempt, got, want)
			}
		}
	}
	if got := runtime.DefaultBackoff(1); got < 900*time.Millisecond || got > 1100*time.Millisecond {
		t.Fatalf("DefaultBackoff(1) = %v, want about 1s", got)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	store := memory.New()
	defer store.Close()
	for _, cfg := range []runtime.Config{
		{PollInterval: -1},
		{LeaseDuration: -1},
		{LeaseDuration: time.Millisecond},
		{MaxPayloadBytes: -1},
		{Queues: map[string]runtime.QueueConfig{"Bad Name": {}}},
		{Queues: map[string]runtime.QueueConfig{"ok": {MaxWorkers: -1}}},
		{Retention: runtime.Retention{SweepInterval: -1}},
		{Retention: runtime.Retention{SweepBatch: -1}},
	} {
		if _, err := runtime.NewServer(store, cfg); !errors.Is(err, runtime.ErrInvalidOption) && !errors.Is(err, runtime.ErrInvalidName) {
			t.Errorf("NewServer(%+v): %v, want an invalid option or name error", cfg, err)
		}
	}
	if _, err := runtime.NewServer(nil, runtime.Config{}); !errors.Is(err, runtime.ErrInvalidOption) {
		t.Errorf("NewServer(nil): %v", err)
	}
	if _, err := runtime.NewClient(nil, runtime.ClientConfig{}); !errors.Is(err, runtime.ErrInvalidOption) {
		t.Errorf("NewClient(nil): %v", err)
	}
	for _, cfg := range []runtime.ClientConfig{{PollInterval: -1}, {MaxPayloadBytes: -1}} {
		if _, err := runtime.NewClient(store, cfg); !errors.Is(err, runtime.ErrInvalidOption) {
			t.Errorf("NewClient(%+v): %v, want an invalid option error", cfg, err)
		}
	}
}

func TestNewKindPanicsOnInvalidOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range []runtime.KindOpts{
		{},
		{Name: "Upper"},
		{Name: "ok", Queue: "bad queue"},
		{Name: "ok", MaxAttempts: -1},
		{Name: "ok", Timeout: -time.Second},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewKind(%+v) did not panic", opts)
				}
			}()
			runtime.NewKind[noopArgs, runtime.NoOutput](opts)
		}()
	}
}

func TestRegistration(t *testing.T) {
	t.Parallel()
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err == nil {
		t.Fatal("Start without handlers succeeded")
	}
	h := func(context.Context, *runtime.Job[noopArgs]) (runtime.NoOutput, error) {
		return runtime.NoOutput{}, nil
	}
	if err := noopKind.Register(srv, nil); err == nil {
		t.Fatal("registering a nil handler succeeded")
	}
	if err := noopKind.Register(srv, h); err != nil {
		t.Fatal(err)
	}
	if err := noopKind.Register(srv, h); err == nil {
		t.Fatal("registering a kind twice succeeded")
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	other := runtime.NewKind[noopArgs, runtime.NoOutput](runtime.KindOpts{Name: "late"})
	if err := other.Register(srv, h); err == nil {
		t.Fatal("registering after Start succeeded")
	}
}

func TestJobErrorMatches(t *testing.T) {
	t.Parallel()
	failed := &runtime.JobError{ID: 3, Kind: "k", State: storage.StateFailed, Attempt: 2, Message: "boom"}
	if !errors.Is(failed, runtime.ErrFailed) || errors.Is(failed, runtime.ErrAborted) {
		t.Fatal("failed job error matches wrongly")
	}
	if got := failed.Error(); !strings.Contains(got, "boom") || !strings.Contains(got, "2 attempt") {
		t.Fatalf("message %q lacks the stored message and attempts", got)
	}
	aborted := &runtime.JobError{State: storage.StateAborted}
	if !errors.Is(aborted, runtime.ErrAborted) || errors.Is(aborted, runtime.ErrFailed) {
		t.Fatal("aborted job error matches wrongly")
	}
	p := runtime.Permanent(nil)
	var pe *runtime.PermanentError
	if !errors.As(p, &pe) {
		t.Fatal("Permanent(nil) is not a *PermanentError")
	}
	var re *runtime.RetryAfterError
	if !errors.As(runtime.RetryAfter(-time.Second, nil), &re) || re.Delay != 0 {
		t.Fatal("RetryAfter clamps a negative delay to zero")
	}
}

type secretArgs struct {
	Password string `json:"password"`
}

var secretKind = runtime.NewKind[secretArgs, runtime.NoOutput](runtime.KindOpts{Name: "secret", MaxAttempts: 2, Backoff: runtime.ExponentialBackoff(time.Millisecond)})

// TestLogging checks that a healthy server says nothing at Info but that it
// started, and that job arguments never reach the log, whatever the level.
func TestLogging(t *testing.T) {
	t.Parallel()
	var info, debug bytes.Buffer
	logger := slog.New(multiHandler{
		slog.NewTextHandler(&info, &slog.HandlerOptions{Level: slog.LevelInfo}),
		slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}),
	})
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := secretKind.Register(srv, func(ctx context.Context, j *runtime.Job[secretArgs]) (runtime.NoOutput, error) {
		if j.Args.Password == "fail" {
			return runtime.NoOutput{}, errors.New("rejected")
		}
		return runtime.NoOutput{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := secretKind.Submit(ctx, srv.Client(), secretArgs{Password: "hunter2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(info.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "server started") {
		t.Errorf("a healthy server logged at Info more than its start:\n%s", info.String())
	}
	h, err = secretKind.Submit(ctx, srv.Client(), secretArgs{Password: "fail"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Wait(ctx); !errors.Is(err, runtime.ErrFailed) {
		t.Fatalf("Wait: %v", err)
	}
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", `"password"`} {
		if strings.Contains(debug.String(), secret) {
			t.Errorf("the log shows job arguments (%s):\n%s", secret, debug.String())
		}
	}
	if !strings.Contains(debug.String(), "job failed") {
		t.Errorf("a failed job was not logged:\n%s", debug.String())
	}
}

// multiHandler sends each record to every handler that accepts its level.
type multiHandler []slog.Handler

func (m multiHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range m {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (m multiHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range m {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m multiHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (m multiHandler) WithGroup(name string) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithGroup(name)
	}
	return out
}
