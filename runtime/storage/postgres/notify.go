package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/jobgen/jobgen/runtime/storage"
)

// MaxProgressPayload is the largest progress payload Publish sends: with
// its "p:<id>:" prefix it stays under PostgreSQL's 8000-byte NOTIFY limit,
// and it carries a runtime progress report with the largest details
// (runtime.MaxProgressDetails, 4 KiB) and a message of some 3.7 KB.
const MaxProgressPayload = 7900

const (
	// subscriptionBuffer is how many notifications wait for a slow reader
	// before newer ones are dropped (and a resync is owed instead).
	subscriptionBuffer = 1024
	// healthInterval is how long the listener waits in silence before it
	// checks its connection with a round trip (finds half-open sockets).
	healthInterval = 15 * time.Second
	// healthTimeout bounds that check.
	healthTimeout = 5 * time.Second
	// reconnect backoff bounds.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

type subscription struct {
	cancel context.CancelFunc
}

// encodeNotification turns n into a compact payload: "i:<queue>",
// "a:<id>", "f:<id>", "p:<id>:<progress>" or "r".
func encodeNotification(n storage.Notification) (string, error) {
	switch n.Kind {
	case storage.NotifyInserted:
		return "i:" + n.Queue, nil
	case storage.NotifyAbortRequested:
		return "a:" + strconv.FormatInt(n.JobID, 10), nil
	case storage.NotifyFinished:
		return "f:" + strconv.FormatInt(n.JobID, 10), nil
	case storage.NotifyProgress:
		if len(n.Payload) > MaxProgressPayload {
			return "", fmt.Errorf("%w: progress payload of %d bytes, at most %d", storage.ErrInvalid, len(n.Payload), MaxProgressPayload)
		}
		return "p:" + strconv.FormatInt(n.JobID, 10) + ":" + string(n.Payload), nil
	case storage.NotifyResync:
		return "r", nil
	}
	return "", fmt.Errorf("%w: notification kind %d", storage.ErrInvalid, n.Kind)
}

// encodeFinished turns the ids of finished jobs into "f:id,id,..." payloads
// of at most maxNotifyIDs ids each (the form the finish statement sends;
// see notifyFinishedSQL).
func encodeFinished(ids []int64) []string {
	var payloads []string
	for len(ids) > 0 {
		n := min(len(ids), maxNotifyIDs)
		var b strings.Builder
		b.WriteString("f:")
		for i, id := range ids[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		payloads = append(payloads, b.String())
		ids = ids[n:]
	}
	return payloads
}

// decodeNotification parses a payload of encodeNotification. Anything else
// (a stray NOTIFY on our channel) is ignored.
func decodeNotification(payload string) (storage.Notification, bool) {
	var (
		out storage.Notification
		n   int
	)
	decodeNotifications(payload, func(x storage.Notification) bool {
		out, n = x, n+1
		return n == 1
	})
	return out, n == 1
}

// maxNotifyIDs is how many ids one "f:" notification of the finish and
// claim statements carries: 350 ids of at most 19 digits and a comma each
// stay under 7,900 bytes, below PostgreSQL's 8,000-byte payload limit.
const maxNotifyIDs = 350

// decodeNotifications parses a payload and hands each notification it
// carries to emit, in order, until emit returns false. The statements that
// finish jobs send one payload per statement with every finished id,
// "f:1,2,3" (and abort requests may come as "a:1,2"); each id becomes a
// notification of its own. Malformed payloads (a stray NOTIFY on our
// channel) and malformed ids are ignored.
func decodeNotifications(payload string, emit func(storage.Notification) bool) {
	tag, rest, _ := strings.Cut(payload, ":")
	id := func(s string) (int64, bool) {
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil && v > 0
	}
	ids := func(kind storage.NotifyKind) {
		for rest != "" {
			var num string
			num, rest, _ = strings.Cut(rest, ",")
			if v, ok := id(num); ok && !emit(storage.Notification{Kind: kind, JobID: v}) {
				return
			}
		}
	}
	switch tag {
	case "i":
		if rest != "" {
			emit(storage.Notification{Kind: storage.NotifyInserted, Queue: rest})
		}
	case "a":
		ids(storage.NotifyAbortRequested)
	case "f":
		ids(storage.NotifyFinished)
	case "p":
		num, progress, _ := strings.Cut(rest, ":")
		if v, ok := id(num); ok {
			emit(storage.Notification{Kind: storage.NotifyProgress, JobID: v, Payload: []byte(progress)})
		}
	case "r":
		emit(storage.Notification{Kind: storage.NotifyResync})
	}
}

// Publish sends n to every subscriber of this schema, in every process,
// through pg_notify. Progress payloads are limited to MaxProgressPayload
// bytes. Through a WithTx view it is delivered when the transaction commits.
func (s *Store) Publish(ctx context.Context, n storage.Notification) error {
	if err := s.check(); err != nil {
		return err
	}
	payload, err := encodeNotification(n)
	if err != nil {
		return fmt.Errorf("postgres: publish: %w", err)
	}
	_, err = s.run.Exec(ctx, "SELECT pg_notify($1, $2)", s.n.channel, payload)
	return translate("publish", err)
}

// Subscribe listens for the store's notifications on a dedicated
// connection (opened with the pool's connection settings, outside the
// pool) until ctx ends or the store is closed; then it closes the channel.
// A lost connection is re-established with capped exponential backoff and
// followed by a NotifyResync notification, as is a reader too slow to keep
// up with the channel's buffer. Notifications are hints: polling and the
// stored state stay the truth.
func (s *Store) Subscribe(ctx context.Context) (<-chan storage.Notification, error) {
	root := s.root
	if err := s.check(); err != nil {
		return nil, err
	}
	conn, err := root.listen(ctx)
	if err != nil {
		return nil, translate("subscribe", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{cancel: cancel}
	root.subsMu.Lock()
	if root.closed.Load() {
		root.subsMu.Unlock()
		cancel()
		closeConn(conn)
		return nil, fmt.Errorf("postgres: subscribe: %w", storage.ErrClosed)
	}
	root.subs[sub] = struct{}{}
	root.subsWG.Add(1)
	root.subsMu.Unlock()
	ch := make(chan storage.Notification, subscriptionBuffer)
	go func() {
		defer root.subsWG.Done()
		defer func() {
			root.subsMu.Lock()
			delete(root.subs, sub)
			root.subsMu.Unlock()
		}()
		defer cancel()
		defer close(ch)
		root.runListener(ctx, conn, ch)
	}()
	return ch, nil
}

// listen opens a dedicated connection and LISTENs on the store's channel.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig
	// Interrupt a wait by a socket deadline rather than a cancel request,
	// which could hit the health check that follows.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.n.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// runListener delivers notifications from conn to ch, reconnecting after
// failures, until ctx ends.
func (s *Store) runListener(ctx context.Context, conn *pgx.Conn, ch chan<- storage.Notification) {
	defer func() {
		if conn != nil {
			closeConn(conn)
		}
	}()
	resync := false // a NotifyResync is owed to the reader
	backoff := minBackoff
	for ctx.Err() == nil {
		if conn == nil {
			timer := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			c, err := s.listen(ctx)
			if err != nil {
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			conn, backoff, resync = c, minBackoff, true
		}
		if resync {
			select {
			case ch <- storage.Notification{Kind: storage.NotifyResync}:
				resync = false
			default:
			}
		}
		wait := healthInterval
		if resync {
			wait = 10 * time.Millisecond // retry the owed resync soon
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		note, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if wctx.Err() != nil && !conn.IsClosed() {
				if resync {
					continue
				}
				// Silence: check the connection is really there.
				hctx, cancel := context.WithTimeout(ctx, healthTimeout)
				err = conn.Ping(hctx)
				cancel()
				if err == nil {
					continue
				}
			}
			closeConn(conn)
			conn = nil
			continue
		}
		decodeNotifications(note.Payload, func(n storage.Notification) bool {
			select {
			case ch <- n:
				return true
			default:
				resync = true // dropped: the reader must re-read
				return false
			}
		})
	}
}
