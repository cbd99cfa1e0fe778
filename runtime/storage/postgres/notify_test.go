package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

func TestNotificationCodec(t *testing.T) {
	t.Parallel()
	for _, n := range []storage.Notification{
		{Kind: storage.NotifyInserted, Queue: "media:big"},
		{Kind: storage.NotifyAbortRequested, JobID: 42},
		{Kind: storage.NotifyFinished, JobID: 7},
		{Kind: storage.NotifyProgress, JobID: 9, Payload: []byte(`{"pct":50,"note":"a:b"}`)},
		{Kind: storage.NotifyResync},
	} {
		s, err := encodeNotification(n)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodeNotification(s)
		if !ok || got.Kind != n.Kind || got.Queue != n.Queue || got.JobID != n.JobID || string(got.Payload) != string(n.Payload) {
			t.Errorf("%q decoded to %+v, %v; want %+v", s, got, ok, n)
		}
	}
	for _, bad := range []string{"", "x:1", "a:", "f:zero", "a:-3", "i:"} {
		if n, ok := decodeNotification(bad); ok {
			t.Errorf("decodeNotification(%q) = %+v, want it ignored", bad, n)
		}
	}
	if _, err := encodeNotification(storage.Notification{Kind: storage.NotifyProgress, JobID: 1, Payload: make([]byte, MaxProgressPayload+1)}); err == nil {
		t.Error("a progress payload over the limit was accepted")
	}
}

// next returns the next notification other than want's skip kinds, or
// fails after a deadline.
func next(t *testing.T, ch <-chan storage.Notification, want storage.NotifyKind) storage.Notification {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed while waiting for notification kind %d", want)
			}
			if n.Kind == want {
				return n
			}
		case <-deadline:
			t.Fatalf("no notification of kind %d within 10s", want)
		}
	}
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}

	mustInsert(t, s, insertParams("media", "k"))
	if n := next(t, ch, storage.NotifyInserted); n.Queue != "media" {
		t.Errorf("inserted notification for queue %q, want media", n.Queue)
	}

	res, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "media", Kinds: []string{"k"}, Limit: 1, LeaseDuration: time.Minute})
	if err != nil || len(res.Jobs) != 1 {
		t.Fatalf("claim: %v", err)
	}
	j := res.Jobs[0]
	if _, err := s.JobAbort(ctx, &storage.JobAbortParams{ID: j.ID}); err != nil {
		t.Fatal(err)
	}
	if n := next(t, ch, storage.NotifyAbortRequested); n.JobID != j.ID {
		t.Errorf("abort notification for job %d, want %d", n.JobID, j.ID)
	}

	if err := s.Publish(ctx, storage.Notification{Kind: storage.NotifyProgress, JobID: j.ID, Payload: []byte(`{"pct":10}`)}); err != nil {
		t.Fatal(err)
	}
	if n := next(t, ch, storage.NotifyProgress); n.JobID != j.ID || string(n.Payload) != `{"pct":10}` {
		t.Errorf("progress notification %+v", n)
	}

	if _, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: []storage.JobFinish{{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeAbort}}}); err != nil {
		t.Fatal(err)
	}
	if n := next(t, ch, storage.NotifyFinished); n.JobID != j.ID {
		t.Errorf("finished notification for job %d, want %d", n.JobID, j.ID)
	}

	// Kill the listener's backend: the subscription reconnects and says
	// that it may have missed something, then keeps delivering.
	var killed bool
	if err := s.pool.QueryRow(ctx, "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1",
		"LISTEN "+pgx.Identifier{s.n.channel}.Sanitize()).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating the listener: %v, killed %v", err, killed)
	}
	next(t, ch, storage.NotifyResync)
	mustInsert(t, s, insertParams("after", "k"))
	if n := next(t, ch, storage.NotifyInserted); n.Queue != "after" {
		t.Errorf("inserted notification for queue %q after the reconnect, want after", n.Queue)
	}

	// The channel closes when ctx ends.
	cancel()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("channel still open 10s after its context ended")
		}
	}
}

// TestSubscribeClosedByStore: Close ends every subscription.
func TestSubscribeClosedByStore(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ch, err := s.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("got a notification, want the channel closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("channel still open 10s after Close")
	}
}
