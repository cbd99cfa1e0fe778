package postgres

import (
	"context"
	"sync"
	"time"
)

// notifyWindow is the shortest interval between two "inserted"
// notifications of one queue from one store. A transaction that sends a
// NOTIFY takes a database-wide lock at commit, so a notification per
// insert would serialise every submitting session on it. Inserts within
// the window are announced by one trailing notification at its end, so a
// listener still hears of every insert within about a window.
const notifyWindow = 25 * time.Millisecond

// debouncer decides which queues an insert announces itself, and sends the
// trailing notifications for the others.
type debouncer struct {
	mu     sync.Mutex
	queues map[string]*queueNotify
	wg     sync.WaitGroup
	closed bool
}

type queueNotify struct {
	last    time.Time // when the last notification of the queue was sent
	pending bool      // a trailing notification is scheduled
}

// insertNotifications returns the distinct queues among queues that the
// insert statement itself must notify, and schedules trailing
// notifications for the rest. Through a WithTx view every queue is
// notified by the statement: the notification then goes out exactly when
// the caller's transaction commits.
func (s *Store) insertNotifications(queues []string) []string {
	var now []string
	seen := make(map[string]bool, 1)
	for _, q := range queues {
		if seen[q] {
			continue
		}
		seen[q] = true
		if s.root != s || s.root.debounce.admit(s.root, q) {
			now = append(now, q)
		}
	}
	return now
}

// admit reports whether a notification of q may go out now; if not, it
// makes sure one goes out at the end of the window.
func (d *debouncer) admit(s *Store, q string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.queues == nil {
		d.queues = make(map[string]*queueNotify)
	}
	st := d.queues[q]
	if st == nil {
		st = &queueNotify{}
		d.queues[q] = st
	}
	now := time.Now()
	if wait := st.last.Add(notifyWindow).Sub(now); wait > 0 {
		if !st.pending && !d.closed {
			st.pending = true
			d.wg.Add(1)
			time.AfterFunc(wait, func() { d.trail(s, q) })
		}
		return false
	}
	st.last = now
	return true
}

// trail sends the trailing notification of q.
func (d *debouncer) trail(s *Store, q string) {
	defer d.wg.Done()
	d.mu.Lock()
	st := d.queues[q]
	st.pending = false
	st.last = time.Now()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A lost hint is harmless: pollers find the job anyway.
	_, _ = s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", s.n.channel, "i:"+q)
}

// close stops scheduling trailing notifications and waits for those
// already scheduled.
func (d *debouncer) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
}
