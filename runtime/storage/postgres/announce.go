package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// announceSpacing is the pause between two announcement statements of a
// store while more are waiting: every notification wakes every listening
// process, so under load fewer, fuller ones cost everybody less. An
// announcement after a quiet spell goes out at once.
const announceSpacing = 2 * time.Millisecond

// announceTimeout bounds one announcement statement. Announcements are
// hints, so one that fails is dropped.
const announceTimeout = 5 * time.Second

// announcer sends the notifications of inserts and finishes made through
// the store (not through a WithTx view) after they commit, from statements
// of their own. A transaction that sends a NOTIFY takes a database-wide
// lock at commit and holds it while its commit is flushed, so NOTIFYs
// inside the inserting and finishing statements would serialise every
// commit of every session sending them. Instead those statements commit
// without notifying, and the announcer sends what they did in one
// statement, one at a time: what commits while an announcement is in
// flight goes out together in the next one. A listener therefore never
// hears of a job before its row is visible, and many commits share one
// notification.
type announcer struct {
	mu       sync.Mutex
	queues   map[string]struct{} // queues with jobs newly pending
	finished []int64             // ids of jobs that reached a terminal state
	busy     bool                // an announcement statement is in flight
	closed   bool
	wg       sync.WaitGroup
}

// announce queues notifications: "inserted" for queues, "finished" for the
// ids of finished jobs. The caller's statement has committed.
func (a *announcer) announce(s *Store, queues []string, finished []int64) {
	if len(queues) == 0 && len(finished) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if a.queues == nil {
		a.queues = make(map[string]struct{})
	}
	for _, q := range queues {
		a.queues[q] = struct{}{}
	}
	a.finished = append(a.finished, finished...)
	if a.busy {
		return
	}
	a.busy = true
	a.wg.Add(1)
	go a.run(s)
}

// run sends announcements until none are waiting.
func (a *announcer) run(s *Store) {
	defer a.wg.Done()
	for first := true; ; first = false {
		if !first {
			// Space announcements out, so that under load each carries more.
			time.Sleep(announceSpacing)
		}
		payloads := a.take()
		if payloads == nil {
			return
		}
		s.sendAnnouncements(payloads)
	}
}

// sendAnnouncements sends payloads in one statement. When the database
// refuses one of them (a queue name too long for a payload, say), it sends
// each alone, so only that one is dropped.
func (s *Store) sendAnnouncements(payloads []string) {
	ctx, cancel := context.WithTimeout(context.Background(), announceTimeout)
	defer cancel()
	_, err := s.pool.Exec(ctx, "SELECT pg_notify($1, p) FROM unnest($2::text[]) p", s.n.channel, payloads)
	if !isDataError(err) || len(payloads) == 1 {
		return
	}
	for _, p := range payloads {
		_, _ = s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", s.n.channel, p)
	}
}

// take renders what waits into payloads and clears it, or marks the
// announcer idle and returns nil when nothing waits.
func (a *announcer) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queues) == 0 && len(a.finished) == 0 {
		a.busy = false
		return nil
	}
	var payloads []string
	for q := range a.queues {
		p, _ := encodeNotification(storage.Notification{Kind: storage.NotifyInserted, Queue: q}) // cannot fail
		payloads = append(payloads, p)
	}
	clear(a.queues)
	payloads = append(payloads, encodeFinished(a.finished)...)
	a.finished = a.finished[:0]
	return payloads
}

// close stops taking announcements and waits for the one in flight and
// those already waiting to be sent.
func (a *announcer) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.wg.Wait()
}
