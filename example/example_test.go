package example_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/jobgentest"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// flakySender fails the first failures sends, then records every message.
type flakySender struct {
	mu       sync.Mutex
	failures int
	sent     []string
}

func (s *flakySender) Send(ctx context.Context, to, body string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures > 0 {
		s.failures--
		return errors.New("mail server unavailable")
	}
	s.sent = append(s.sent, to+": "+body)
	return nil
}

type bundle struct {
	ctx    context.Context
	srv    *runtime.Server
	jobs   example.Clients
	sender *flakySender
}

// setup returns a server on a fresh memory store with the example's
// handlers registered through the generated Register. start says whether
// to start it; the test's cleanup stops it either way.
func setup(t *testing.T, start bool) *bundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	store := memory.New()
	srv, err := runtime.NewServer(store, runtime.Config{StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sender := &flakySender{}
	if err := example.Register(srv, &example.Service{Sender: sender}); err != nil {
		t.Fatal(err)
	}
	b := &bundle{ctx: ctx, srv: srv, jobs: example.NewClients(srv.Client()), sender: sender}
	t.Cleanup(func() {
		if err := srv.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
		store.Close()
	})
	if start {
		b.start(t)
	}
	return b
}

func (b *bundle) start(t *testing.T) {
	t.Helper()
	if err := b.srv.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
}

func TestResize(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	h, err := b.jobs.Resize.Submit(b.ctx, example.Resize{Name: "gradient", Image: example.Gradient(200, 100), Width: 50}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Wait(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(res.Image))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); res.Width != 50 || res.Height != 25 || got.X != 50 || got.Y != 25 {
		t.Errorf("result %dx%d, image %v, want 50x25", res.Width, res.Height, got)
	}
	// The gradient survives the scaling: red grows to the right.
	r0, _, _, _ := img.At(0, 0).RGBA()
	r1, _, _, _ := img.At(49, 0).RGBA()
	if r0 >= r1 {
		t.Errorf("red at the left %d, at the right %d", r0, r1)
	}

	info, err := b.jobs.Resize.Get(b.ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Args.Name != "gradient" || info.Output.Width != 50 || info.Job.Queue != "media" || info.Job.MaxAttempts != 3 {
		t.Errorf("Get = args %q, output width %d, queue %q, max attempts %d", info.Args.Name, info.Output.Width, info.Job.Queue, info.Job.MaxAttempts)
	}
}

func TestResizeBadImage(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	h, err := b.jobs.Resize.Submit(b.ctx, example.Resize{Name: "junk", Image: []byte("not a png"), Width: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.jobs.Resize.WaitFor(b.ctx, h.ID)
	var jobErr *runtime.JobError
	if !errors.Is(err, runtime.ErrFailed) || !errors.As(err, &jobErr) || jobErr.Attempt != 1 {
		t.Errorf("WaitFor = %v, want a permanent failure after 1 attempt", err)
	}
}

func TestUniqueKey(t *testing.T) {
	t.Parallel()
	b := setup(t, false) // not started: both submits find the first job pending
	args := example.Resize{Name: "logo", Image: example.Gradient(20, 20), Width: 10}
	first, err := b.jobs.Resize.Submit(b.ctx, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.jobs.Resize.Submit(b.ctx, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	args.Width = 11
	other, err := b.jobs.Resize.Submit(b.ctx, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !again.Duplicate || again.ID != first.ID || other.Duplicate || other.ID == first.ID {
		t.Errorf("first %+v, same key %+v, other width %+v", first, again, other)
	}
	b.start(t)
	if _, err := again.Wait(b.ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	h, err := b.jobs.Report.Submit(b.ctx, example.Report{
		Title: "Order 42",
		Lines: []example.LineItem{{Product: "widget", Quantity: 3, Price: 2.5}, {Product: "gadget", Quantity: 1, Price: 10}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Wait(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := "Order 42\nwidget          3 x 2.50 = 7.50\ngadget          1 x 10.00 = 10.00\nTotal: 17.50\n"
	if res.Text != want || res.Total != 17.5 {
		t.Errorf("report:\n%s(total %v)\nwant:\n%s", res.Text, res.Total, want)
	}
}

func TestSendMessageRetries(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	b.sender.failures = 2
	h, err := b.jobs.SendMessage.Submit(b.ctx, example.SendMessage{To: "ada@example.com", Body: "hello"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Wait(b.ctx); err != nil { // no output: Wait returns only an error
		t.Fatal(err)
	}
	info, err := b.jobs.SendMessage.Get(b.ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.sender.mu.Lock()
	defer b.sender.mu.Unlock()
	if info.Job.Attempt != 3 || len(b.sender.sent) != 1 || b.sender.sent[0] != "ada@example.com: hello" {
		t.Errorf("attempt %d, sent %q; want 3 attempts and one message", info.Job.Attempt, b.sender.sent)
	}
}

func TestSendMessagePermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	h, err := b.jobs.SendMessage.Submit(b.ctx, example.SendMessage{Body: "to nobody"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.jobs.SendMessage.WaitFor(b.ctx, h.ID)
	var jobErr *runtime.JobError
	if !errors.Is(err, runtime.ErrFailed) || !errors.As(err, &jobErr) || jobErr.Attempt != 1 ||
		!strings.Contains(jobErr.Message, "no recipient") {
		t.Errorf("WaitFor = %v, want a failure after one attempt saying there is no recipient", err)
	}
}

func TestCrunchProgress(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	h, err := b.jobs.Crunch.Submit(b.ctx, example.Crunch{Steps: 20, StepDelay: 5 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	updates, cancel := h.Progress()
	defer cancel()
	var last runtime.Progress
	for p := range updates { // closed when the job finishes
		if p.Percent < last.Percent {
			t.Errorf("progress went back from %v to %v", last.Percent, p.Percent)
		}
		last = p
	}
	res, err := h.Wait(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sum != 2870 { // 1² + ... + 20²
		t.Errorf("sum %d, want 2870", res.Sum)
	}
	if last.Percent != 100 || last.Message != "step 20 of 20" {
		t.Errorf("last progress %+v, want 100%% at step 20", last)
	}
}

func TestCrunchAbort(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	h, err := b.jobs.Crunch.Submit(b.ctx, example.Crunch{Steps: 1_000_000, StepDelay: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	updates, cancel := b.jobs.Crunch.Progress(h.ID)
	defer cancel()
	select {
	case _, ok := <-updates:
		if !ok {
			t.Fatal("job finished before it reported progress")
		}
	case <-b.ctx.Done():
		t.Fatal("no progress")
	}
	if err := h.Abort(b.ctx); err != nil {
		t.Fatal(err)
	}
	_, err = h.Wait(b.ctx)
	if !errors.Is(err, runtime.ErrAborted) {
		t.Fatalf("Wait after abort = %v, want ErrAborted", err)
	}
	if err := b.jobs.Crunch.Abort(b.ctx, h.ID); !errors.Is(err, runtime.ErrFinished) {
		t.Errorf("second abort = %v, want ErrFinished", err)
	}
}

// TestHandlerFunc registers one kind from a function through the generated
// adapter and per-kind registration.
func TestHandlerFunc(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	double := example.CrunchHandlerFunc(func(ctx context.Context, job *runtime.Job[example.Crunch]) (example.CrunchResult, error) {
		return example.CrunchResult{Sum: int64(2 * job.Args.Steps)}, nil
	})
	if err := example.RegisterCrunchHandler(srv, double); err != nil {
		t.Fatal(err)
	}
	if err := example.RegisterCrunchHandler(srv, double); err == nil {
		t.Error("registering a kind twice succeeded")
	}
	if err := example.RegisterReportHandler(srv, nil); err == nil {
		t.Error("registering a nil handler succeeded")
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	crunch := example.NewCrunchClient(srv.Client())
	h, err := crunch.Submit(ctx, example.Crunch{Steps: 21}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := crunch.WaitFor(ctx, h.ID); err != nil || res.Sum != 42 {
		t.Errorf("WaitFor = %+v, %v; want sum 42", res, err)
	}
}

// TestHandlerOutcomes runs the handlers one job at a time through
// jobgentest, without a server: the outcome each return leads to.
func TestHandlerOutcomes(t *testing.T) {
	t.Parallel()
	sender := &flakySender{failures: 1}
	svc := &example.Service{Sender: sender}
	send := runtime.NoOutputFunc(svc.HandleSendMessage)

	resized := jobgentest.Run(t, example.ResizeKind, svc.HandleResize, example.Resize{Name: "g", Image: example.Gradient(40, 20), Width: 10})
	if resized.Outcome != jobgentest.Completed || resized.Output.Width != 10 || resized.Output.Height != 5 {
		t.Errorf("resize: %v %dx%d (%v), want completed 10x5", resized.Outcome, resized.Output.Width, resized.Output.Height, resized.Err)
	}
	bad := jobgentest.Run(t, example.ResizeKind, svc.HandleResize, example.Resize{Name: "junk", Image: []byte("not a png"), Width: 10})
	if bad.Outcome != jobgentest.Failed || bad.Code != runtime.CodePermanent {
		t.Errorf("resize of junk: %v %q, want failed permanent", bad.Outcome, bad.Code)
	}
	nobody := jobgentest.Run(t, example.SendMessageKind, send, example.SendMessage{Body: "to nobody"})
	if nobody.Outcome != jobgentest.Failed || !errors.Is(nobody.Err, example.ErrNoRecipient) {
		t.Errorf("message without recipient: %v %v, want failed with ErrNoRecipient", nobody.Outcome, nobody.Err)
	}
	flaky := jobgentest.Run(t, example.SendMessageKind, send, example.SendMessage{To: "ada@example.com", Body: "hi"})
	if flaky.Outcome != jobgentest.Retried || flaky.RetryAfter <= 0 {
		t.Errorf("failed send: %v after %v, want retried after the kind's backoff", flaky.Outcome, flaky.RetryAfter)
	}
	if sent := jobgentest.Run(t, example.SendMessageKind, send, example.SendMessage{To: "ada@example.com", Body: "hi"}, jobgentest.Attempt(2)); sent.Outcome != jobgentest.Completed {
		t.Errorf("second send: %v (%v), want completed", sent.Outcome, sent.Err)
	}
}

// TestResizeSubmittedOnce: two submits of one image and width store one
// job (the marker's unique key), checked with jobgentest.
func TestResizeSubmittedOnce(t *testing.T) {
	t.Parallel()
	store := memory.New()
	client, err := runtime.NewClient(store, runtime.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	jobs := example.NewClients(client)
	args := example.Resize{Name: "logo", Image: example.Gradient(20, 20), Width: 10}
	for range 2 {
		if _, err := jobs.Resize.Submit(t.Context(), args, nil); err != nil {
			t.Fatal(err)
		}
	}
	jobgentest.RequireSubmittedN(t, store, example.ResizeKind, func(r example.Resize) bool { return r.Name == "logo" }, 1)
	jobgentest.RequireNotSubmitted(t, store, example.SendMessageKind, nil)
}
