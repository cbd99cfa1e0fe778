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

// subscribe subscribes to s's notifications until ctx ends.
func subscribe(ctx context.Context, t *testing.T, s *Store) <-chan storage.Notification {
	t.Helper()
	ch, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestSubscribeReconnects: when the listener's connection is lost, the
// subscription reconnects, says that it may have missed something, and
// keeps delivering. (What every Notifier delivers is in the conformance
// suite.)
func TestSubscribeReconnects(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	ch := subscribe(ctx, t, s)
	mustInsert(t, s, insertParams("before", "k"))
	if n := next(t, ch, storage.NotifyInserted); n.Queue != "before" {
		t.Errorf("inserted notification for queue %q, want before", n.Queue)
	}
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
}

// TestNotificationIDLists: a payload with many ids is split into one
// notification per id; malformed ids are skipped.
func TestNotificationIDLists(t *testing.T) {
	t.Parallel()
	var got []storage.Notification
	collect := func(n storage.Notification) bool { got = append(got, n); return true }
	decodeNotifications("f:3,1,x,-2,,2", collect)
	decodeNotifications("a:7,8", collect)
	want := []storage.Notification{
		{Kind: storage.NotifyFinished, JobID: 3}, {Kind: storage.NotifyFinished, JobID: 1}, {Kind: storage.NotifyFinished, JobID: 2},
		{Kind: storage.NotifyAbortRequested, JobID: 7}, {Kind: storage.NotifyAbortRequested, JobID: 8},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].JobID != want[i].JobID {
			t.Errorf("notification %d is %+v, want %+v", i, got[i], want[i])
		}
	}
	// emit stops the split.
	n := 0
	decodeNotifications("f:1,2,3", func(storage.Notification) bool { n++; return false })
	if n != 1 {
		t.Errorf("decoding went on after emit returned false: %d notifications", n)
	}
}

// TestFinishNotifiesEveryJob: one JobFinish of more jobs than one payload
// holds sends a few notifications carrying many ids each, and a subscriber
// sees one NotifyFinished per job, and one NotifyInserted for the queue of
// the retried ones.
func TestFinishNotifiesEveryJob(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const jobs = 2*maxNotifyIDs + 10
	batch := make([]*storage.JobInsertParams, jobs)
	for i := range batch {
		batch[i] = insertParams("q", "k")
	}
	if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
		t.Fatal(err)
	}
	res, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: jobs, LeaseDuration: time.Minute})
	if err != nil || len(res.Jobs) != jobs {
		t.Fatalf("claim: %v, %d jobs", err, len(res.Jobs))
	}
	ch := subscribe(ctx, t, s)
	// Count the payloads on the channel as the server delivers them.
	conn, err := s.listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn(conn)
	fs := make([]storage.JobFinish, jobs)
	want := make(map[int64]bool)
	for i, j := range res.Jobs {
		fs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete}
		if i%2 == 1 {
			fs[i].Delete = true
		}
		if i == 0 {
			fs[i].Outcome, fs[i].RetryDelay = storage.OutcomeRetry, time.Hour
			continue
		}
		want[j.ID] = true
	}
	if _, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: fs}); err != nil {
		t.Fatal(err)
	}
	inserted := false
	deadline := time.After(10 * time.Second)
	for len(want) > 0 || !inserted {
		select {
		case n := <-ch:
			switch n.Kind {
			case storage.NotifyInserted:
				inserted = inserted || n.Queue == "q"
			case storage.NotifyFinished:
				if !want[n.JobID] {
					t.Fatalf("unexpected finished notification for job %d", n.JobID)
				}
				delete(want, n.JobID)
			}
		case <-deadline:
			t.Fatalf("%d finished jobs not notified (inserted notified: %v)", len(want), inserted)
		}
	}
	payloads := 0
	for {
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		note, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			break
		}
		if note.Payload[0] == 'f' {
			payloads++
		}
	}
	if wantPayloads := (jobs - 1 + maxNotifyIDs - 1) / maxNotifyIDs; payloads != wantPayloads {
		t.Errorf("%d finished payloads for %d jobs, want %d", payloads, jobs-1, wantPayloads)
	}
}

// TestWithTxNotifiesAtCommit: an insert through a WithTx view is announced
// when the caller's transaction commits, not before; the store's own
// inserts are announced meanwhile.
func TestWithTxNotifiesAtCommit(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	ch := subscribe(ctx, t, s)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	mustInsert(t, s.WithTx(tx), insertParams("in-tx", "k"))
	mustInsert(t, s, insertParams("outside", "k"))
	if n := next(t, ch, storage.NotifyInserted); n.Queue != "outside" {
		t.Fatalf("first inserted notification for queue %q, want outside (in-tx is not committed)", n.Queue)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := next(t, ch, storage.NotifyInserted); n.Queue != "in-tx" {
		t.Fatalf("inserted notification for queue %q after commit, want in-tx", n.Queue)
	}
}
