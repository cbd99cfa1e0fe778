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
// the window are announced by one trailing notification at its end (or
// after their commit, if that is later), so a listener still hears of
// every insert within about a window. It is short, because a submitter
// that waits for each job in turn submits about once per job's latency,
// and every such submit inside a window would wait for the trailing one.
const notifyWindow = 2 * time.Millisecond

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

// insertNotifications splits the distinct queues among queues into those
// the insert statement itself must notify (now) and those whose
// notification is left to a trailing one (later): the caller passes later
// to afterCommit once the insert has committed. Through a WithTx view
// every queue is notified by the statement: the notification then goes
// out exactly when the caller's transaction commits.
func (s *Store) insertNotifications(queues []string) (now, later []string) {
	seen := make(map[string]bool, 1)
	for _, q := range queues {
		if seen[q] {
			continue
		}
		seen[q] = true
		if s.root != s || s.root.debounce.admit(q) {
			now = append(now, q)
		} else {
			later = append(later, q)
		}
	}
	return now, later
}

// admit reports whether a notification of q may go out now, with the
// insert; if not, the insert must call afterCommit once it has committed.
func (d *debouncer) admit(q string) bool {
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
	if st.last.Add(notifyWindow).After(now) {
		return false
	}
	st.last = now
	return true
}

// afterCommit makes sure a notification of each queue goes out after the
// calling insert's commit: the trailing one of the window, unless one is
// already scheduled (it will go out later still). Scheduling it only after
// the commit means a listener never wakes before the row is visible.
func (d *debouncer) afterCommit(s *Store, queues []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, q := range queues {
		st := d.queues[q]
		if st.pending || d.closed {
			continue
		}
		st.pending = true
		d.wg.Add(1)
		time.AfterFunc(max(time.Until(st.last.Add(notifyWindow)), 0), func() { d.trail(s, q) })
	}
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
