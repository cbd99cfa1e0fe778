package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// hearWithin bounds the wait for one notification. Notifications travel
// at once, so only a lost one takes this long.
const hearWithin = 10 * time.Second

// notifierFixture is one Notifier test: x acts through a store from New,
// and y, another store over the same jobs (a second process), listens.
type notifierFixture struct {
	*fixture
	b  Backend
	y  storage.Storage
	ny storage.Notifier
	ch <-chan storage.Notification // y's subscription, open until the test ends
}

// runNotifier runs test as a parallel subtest with a notifierFixture; it
// skips the test when the backend's stores cannot share their jobs or do
// not implement storage.Notifier.
func runNotifier(t *testing.T, b Backend, name string, test func(t *testing.T, x *notifierFixture)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		if b.Open == nil {
			t.Skip("the backend's stores cannot share their jobs")
		}
		s := b.New(t)
		y := b.Open(t, s)
		ny, ok := y.(storage.Notifier)
		if !ok {
			t.Skip("the backend does not implement storage.Notifier")
		}
		x := &notifierFixture{fixture: &fixture{t: t, s: s, ctx: t.Context()}, b: b, y: y, ny: ny}
		x.ch = subscribe(t, t.Context(), ny)
		test(t, x)
	})
}

// subscribe subscribes to n until ctx ends.
func subscribe(t *testing.T, ctx context.Context, n storage.Notifier) <-chan storage.Notification {
	t.Helper()
	ch, err := n.Subscribe(ctx)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return ch
}

// hear reads ch until every one of wants has matched a notification,
// failing the test after hearWithin. Notifications may come in any order,
// and others may come between them. Every notification read must carry ids
// only: no payload but a progress report's.
func hear(t *testing.T, ch <-chan storage.Notification, what string, wants ...func(storage.Notification) bool) {
	t.Helper()
	heard := make([]bool, len(wants))
	left := len(wants)
	timeout := time.After(hearWithin)
	for left > 0 {
		select {
		case n, ok := <-ch:
			if !ok {
				t.Fatalf("the subscription closed while waiting for %s", what)
			}
			if n.Kind != storage.NotifyProgress && len(n.Payload) != 0 {
				t.Errorf("notification %+v carries a payload %q, want ids only", n, n.Payload)
			}
			for i, want := range wants {
				if !heard[i] && want(n) {
					heard[i] = true
					left--
				}
			}
		case <-timeout:
			t.Fatalf("no notification of %s within %v (%d of %d heard)", what, hearWithin, len(wants)-left, len(wants))
		}
	}
}

// hearProgress reads ch until a progress report of job id and returns it.
func hearProgress(t *testing.T, ch <-chan storage.Notification, id int64) storage.Notification {
	t.Helper()
	var got storage.Notification
	hear(t, ch, "published progress", func(n storage.Notification) bool {
		if n.Kind == storage.NotifyProgress && n.JobID == id {
			got = n
			return true
		}
		return false
	})
	return got
}

// inserted matches the notification that jobs became pending in queue.
func inserted(queue string) func(storage.Notification) bool {
	return func(n storage.Notification) bool { return n.Kind == storage.NotifyInserted && n.Queue == queue }
}

// about matches a notification of kind k about job id.
func about(k storage.NotifyKind, id int64) func(storage.Notification) bool {
	return func(n storage.Notification) bool { return n.Kind == k && n.JobID == id }
}

// closed waits for ch to be closed, reading what is still in it.
func closed(t *testing.T, ch <-chan storage.Notification, what string) {
	t.Helper()
	timeout := time.After(hearWithin)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("the subscription is still open %v after %s", hearWithin, what)
		}
	}
}

// testNotifier covers storage.Notifier: what one store does is heard by the
// subscribers of another store over the same jobs, as another process
// hears it, and only once it can be seen there.
func testNotifier(t *testing.T, b Backend) {
	runNotifier(t, b, "Inserted", func(t *testing.T, x *notifierFixture) {
		j := x.insert(job("q1", "k"))
		hear(t, x.ch, "an insert into q1", inserted("q1"))
		res, err := x.y.JobClaim(x.ctx, claimParams(base, 1, "q1", "k"))
		if err != nil || len(res.Jobs) != 1 || res.Jobs[0].ID != j.ID {
			t.Fatalf("the other store's claim after the notification: %v, %v; want job %d", err, res, j.ID)
		}
		deferred := job("q3", "k")
		deferred.RunAfter = at(time.Hour)
		if _, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: []*storage.JobInsertParams{job("q2", "k"), deferred}, Now: base}); err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		hear(t, x.ch, "a batch insert into q2 and q3 (deferred)", inserted("q2"), inserted("q3"))
	})

	runNotifier(t, b, "AbortRequested", func(t *testing.T, x *notifierFixture) {
		j := x.claimedJobs(1)[0]
		x.abort(at(time.Second), j.ID)
		hear(t, x.ch, "the abort request of a running job", about(storage.NotifyAbortRequested, j.ID))
		got, err := x.y.JobGet(x.ctx, &storage.JobGetParams{ID: j.ID})
		if err != nil || got.AbortRequestedAt.IsZero() {
			t.Fatalf("the other store reads job %d as %+v, %v; want its abort request", j.ID, got, err)
		}
	})

	runNotifier(t, b, "Finished", func(t *testing.T, x *notifierFixture) {
		// Every way into a terminal state is heard: each outcome, a
		// deleting finish, and the abort of a pending job.
		js := x.claimedJobs(4)
		pending := x.insert(job("q", "k"))
		fs := []storage.JobFinish{
			{ID: js[0].ID, LeaseToken: js[0].LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte(`{"secret":1}`)},
			{ID: js[1].ID, LeaseToken: js[1].LeaseToken, Outcome: storage.OutcomeFail, ErrorMessage: "boom"},
			{ID: js[2].ID, LeaseToken: js[2].LeaseToken, Outcome: storage.OutcomeAbort, ErrorMessage: "aborted"},
			{ID: js[3].ID, LeaseToken: js[3].LeaseToken, Outcome: storage.OutcomeComplete, Delete: true},
		}
		for _, ok := range x.finish(at(time.Second), fs...) {
			if !ok {
				t.Fatalf("JobFinish did not apply every entry")
			}
		}
		x.abort(at(time.Second), pending.ID)
		hear(t, x.ch, "five finished jobs", about(storage.NotifyFinished, js[0].ID), about(storage.NotifyFinished, js[1].ID),
			about(storage.NotifyFinished, js[2].ID), about(storage.NotifyFinished, js[3].ID), about(storage.NotifyFinished, pending.ID))
		for _, id := range []int64{js[0].ID, js[1].ID, js[2].ID, pending.ID} {
			got, err := x.y.JobGet(x.ctx, &storage.JobGetParams{ID: id})
			if err != nil || !got.State.Terminal() {
				t.Fatalf("the other store reads finished job %d as %v, %v; want it terminal", id, state(got), err)
			}
		}
		if _, err := x.y.JobGet(x.ctx, &storage.JobGetParams{ID: js[3].ID}); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("the other store reads deleted job %d: %v, want storage.ErrNotFound", js[3].ID, err)
		}
	})

	runNotifier(t, b, "BackToPending", func(t *testing.T, x *notifierFixture) {
		// A retried or released job is pending again in its queue.
		for _, o := range []storage.Outcome{storage.OutcomeRetry, storage.OutcomeRelease} {
			queue := fmt.Sprintf("q%d", o)
			x.insert(job(queue, "k"))
			hear(t, x.ch, "the insert into "+queue, inserted(queue))
			j := x.claimOne(base, queue, "k")
			x.finishOne(at(time.Second), storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: o}, true)
			hear(t, x.ch, "a job back to pending in "+queue, inserted(queue))
			got, err := x.y.JobGet(x.ctx, &storage.JobGetParams{ID: j.ID})
			if err != nil || got.State != storage.StatePending {
				t.Fatalf("outcome %d: the other store reads job %d as %v, %v; want pending", o, j.ID, state(got), err)
			}
		}
	})

	runNotifier(t, b, "LeaseExpiredFailure", func(t *testing.T, x *notifierFixture) {
		// A claim that fails a job whose lease expired on its last attempt
		// tells the job's waiters in other processes.
		p := job("q", "k")
		p.MaxAttempts = 1
		j := x.insert(p)
		x.claimOne(base, "q", "k")
		x.claimNone(at(2*lease), "q", "k")
		hear(t, x.ch, "the failure of a job whose lease expired", about(storage.NotifyFinished, j.ID))
	})

	runNotifier(t, b, "Publish", func(t *testing.T, x *notifierFixture) {
		// A published notification reaches every subscriber, in every
		// process, the publisher's own included.
		z, ok := x.b.Open(t, x.s).(storage.Notifier)
		if !ok {
			t.Fatal("a second store from Open does not implement storage.Notifier")
		}
		zch := subscribe(t, x.ctx, z)
		sent := storage.Notification{Kind: storage.NotifyProgress, JobID: 42, Payload: []byte(`{"pct":50}`)}
		if err := z.Publish(x.ctx, sent); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		for _, ch := range []<-chan storage.Notification{x.ch, zch} {
			got := hearProgress(t, ch, 42)
			if string(got.Payload) != string(sent.Payload) {
				t.Errorf("published payload %q arrived as %q", sent.Payload, got.Payload)
			}
		}
		if err := z.Publish(x.ctx, storage.Notification{}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("Publish of a notification without a kind: %v, want an error matching storage.ErrInvalid", err)
		}
	})

	runNotifier(t, b, "ContextEnds", func(t *testing.T, x *notifierFixture) {
		ctx, cancel := context.WithCancel(x.ctx)
		ch := subscribe(t, ctx, x.ny)
		cancel()
		closed(t, ch, "its context ended")
		// The other subscription goes on.
		x.insert(job("after", "k"))
		hear(t, x.ch, "an insert after another subscription ended", inserted("after"))
	})

	runNotifier(t, b, "Close", func(t *testing.T, x *notifierFixture) {
		// Close ends the store's subscriptions and its calls; the other
		// store over the same jobs goes on.
		j := x.insert(job("q", "k"))
		if err := x.y.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		closed(t, x.ch, "its store closed")
		if _, err := x.ny.Subscribe(x.ctx); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("Subscribe after Close: %v, want an error matching storage.ErrClosed", err)
		}
		if err := x.ny.Publish(x.ctx, storage.Notification{Kind: storage.NotifyResync}); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("Publish after Close: %v, want an error matching storage.ErrClosed", err)
		}
		for _, c := range calls(x.ctx, x.y, j.ID) {
			if err := c.call(); !errors.Is(err, storage.ErrClosed) {
				t.Errorf("%s after Close: error %v, want one matching storage.ErrClosed", c.name, err)
			}
		}
		x.want(j)
	})
}
