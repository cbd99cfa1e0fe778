package memory

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jobgen/jobgen/runtime/storage"
)

// subscriptionBuffer is how many notifications wait for a slow reader
// before newer ones are dropped and a NotifyResync is owed instead.
const subscriptionBuffer = 1024

// Peer is another store over the jobs of a Store, the way a second process
// opens the database of a first: calls through either see the same jobs.
// Unlike a Store, a Peer implements storage.Notifier, so a server or a
// detached client over it hears of what is done through the Store and
// every other Peer of it as it would over PostgreSQL: inserts, finishes,
// abort requests and published progress. This runs a worker and an
// observer as two processes in one test, without a database.
//
// Closing a Peer ends its subscriptions and its own use of the jobs; the
// Store and the other peers go on. Closing the Store drops every job, and
// calls through its peers then fail with storage.ErrClosed too.
type Peer struct {
	s *Store

	closed atomic.Bool
	mu     sync.Mutex                           // guards subs against Close
	subs   map[*subscription]context.CancelFunc // the open subscriptions
	wg     sync.WaitGroup                       // their goroutines
}

var (
	_ storage.Storage       = (*Peer)(nil)
	_ storage.InsertClaimer = (*Peer)(nil)
	_ storage.Notifier      = (*Peer)(nil)
)

// Peer returns a new peer of s. From then on every change to s's jobs is
// notified to the subscribers of its peers.
func (s *Store) Peer() *Peer {
	s.mu.Lock()
	if s.bus == nil {
		s.bus = &bus{subs: make(map[*subscription]struct{})}
	}
	s.mu.Unlock()
	return &Peer{s: s, subs: make(map[*subscription]context.CancelFunc)}
}

// bus hands notifications to every subscription of a store's peers.
type bus struct {
	mu   sync.Mutex
	subs map[*subscription]struct{}
}

// send delivers notes to every subscription, without blocking.
func (b *bus) send(notes []storage.Notification) {
	if len(notes) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for sub := range b.subs {
		for _, n := range notes {
			sub.deliver(n)
		}
	}
}

// subscription is one Subscribe call: its channel, and a wake-up for the
// goroutine that sends the resync owed after a dropped notification.
type subscription struct {
	ch     chan storage.Notification
	resync chan struct{} // capacity 1: a resync is owed
}

// deliver sends n, or, when the reader has fallen behind, drops it and owes
// a resync. It is called with the bus's lock held.
func (sub *subscription) deliver(n storage.Notification) {
	select {
	case sub.ch <- n:
	default:
		select {
		case sub.resync <- struct{}{}:
		default:
		}
	}
}

// check returns an error matching storage.ErrClosed once p is closed.
func (p *Peer) check(op string) error {
	if p.closed.Load() {
		return closedError(op)
	}
	return nil
}

// Subscribe delivers the notifications of changes made through the Store
// and any of its peers, and of every peer's Publish, until ctx ends or p is
// closed; then it closes the channel. A reader that falls more than 1,024
// notifications behind loses the newer ones and gets a NotifyResync.
func (p *Peer) Subscribe(ctx context.Context) (<-chan storage.Notification, error) {
	sub := &subscription{ch: make(chan storage.Notification, subscriptionBuffer), resync: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(ctx)
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		cancel()
		return nil, closedError("subscribe")
	}
	p.subs[sub] = cancel
	p.wg.Add(1)
	p.mu.Unlock()
	b := p.s.bus
	b.mu.Lock()
	b.subs[sub] = struct{}{}
	b.mu.Unlock()
	go func() {
		defer p.wg.Done()
		defer func() {
			b.mu.Lock()
			delete(b.subs, sub) // no send follows: ch may close
			b.mu.Unlock()
			close(sub.ch)
			p.mu.Lock()
			delete(p.subs, sub)
			p.mu.Unlock()
			cancel()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sub.resync:
			}
			select {
			case sub.ch <- storage.Notification{Kind: storage.NotifyResync}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return sub.ch, nil
}

// Publish sends n to every subscriber of the Store's peers, p's own
// included. The payload is copied.
func (p *Peer) Publish(ctx context.Context, n storage.Notification) error {
	if n.Kind < storage.NotifyInserted || n.Kind > storage.NotifyResync {
		return fmt.Errorf("memory: publish: %w: notification kind %d", storage.ErrInvalid, n.Kind)
	}
	if err := p.check("publish"); err != nil {
		return err
	}
	n.Payload = bytes.Clone(n.Payload)
	p.s.bus.send([]storage.Notification{n})
	return nil
}

// Close ends p's subscriptions and waits for their channels to close.
// Later calls through p fail with storage.ErrClosed; Close itself may be
// called again and returns nil. The Store and the other peers go on.
func (p *Peer) Close() error {
	p.mu.Lock()
	p.closed.Store(true)
	for _, cancel := range p.subs {
		cancel()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

// JobInsert inserts one job, as Store.JobInsert does.
func (p *Peer) JobInsert(ctx context.Context, ps *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	if err := p.check("insert job"); err != nil {
		return nil, err
	}
	return p.s.JobInsert(ctx, ps)
}

// JobInsertMany inserts many jobs, as Store.JobInsertMany does.
func (p *Peer) JobInsertMany(ctx context.Context, ps *storage.JobInsertManyParams) ([]*storage.JobInsertResult, error) {
	if err := p.check("insert jobs"); err != nil {
		return nil, err
	}
	return p.s.JobInsertMany(ctx, ps)
}

// JobInsertClaim inserts and claims, as Store.JobInsertClaim does.
func (p *Peer) JobInsertClaim(ctx context.Context, i *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error) {
	if err := p.check("insert and claim"); err != nil {
		return nil, nil, err
	}
	return p.s.JobInsertClaim(ctx, i, c)
}

// JobClaim claims ready jobs, as Store.JobClaim does.
func (p *Peer) JobClaim(ctx context.Context, ps *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	if err := p.check("claim jobs"); err != nil {
		return nil, err
	}
	return p.s.JobClaim(ctx, ps)
}

// JobHeartbeat renews leases, as Store.JobHeartbeat does.
func (p *Peer) JobHeartbeat(ctx context.Context, ps *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	if err := p.check("heartbeat"); err != nil {
		return nil, err
	}
	return p.s.JobHeartbeat(ctx, ps)
}

// JobAbortRequested reads abort requests, as Store.JobAbortRequested does.
func (p *Peer) JobAbortRequested(ctx context.Context, ps *storage.JobAbortRequestedParams) ([]int64, error) {
	if err := p.check("abort requested"); err != nil {
		return nil, err
	}
	return p.s.JobAbortRequested(ctx, ps)
}

// JobFinish writes outcomes, as Store.JobFinish does.
func (p *Peer) JobFinish(ctx context.Context, ps *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	if err := p.check("finish jobs"); err != nil {
		return nil, err
	}
	return p.s.JobFinish(ctx, ps)
}

// JobAbort aborts a job, as Store.JobAbort does.
func (p *Peer) JobAbort(ctx context.Context, ps *storage.JobAbortParams) (*storage.JobAbortResult, error) {
	if err := p.check("abort job"); err != nil {
		return nil, err
	}
	return p.s.JobAbort(ctx, ps)
}

// JobGet returns a copy of one job, as Store.JobGet does.
func (p *Peer) JobGet(ctx context.Context, ps *storage.JobGetParams) (*storage.Job, error) {
	if err := p.check("get job"); err != nil {
		return nil, err
	}
	return p.s.JobGet(ctx, ps)
}

// JobList lists jobs, as Store.JobList does.
func (p *Peer) JobList(ctx context.Context, ps *storage.JobListParams) ([]*storage.Job, error) {
	if err := p.check("list jobs"); err != nil {
		return nil, err
	}
	return p.s.JobList(ctx, ps)
}

// JobDeleteFinished deletes finished jobs, as Store.JobDeleteFinished does.
func (p *Peer) JobDeleteFinished(ctx context.Context, ps *storage.JobDeleteFinishedParams) (int, error) {
	if err := p.check("delete finished jobs"); err != nil {
		return 0, err
	}
	return p.s.JobDeleteFinished(ctx, ps)
}

// ScheduleUpsert stores a schedule, as Store.ScheduleUpsert does.
func (p *Peer) ScheduleUpsert(ctx context.Context, ps *storage.ScheduleUpsertParams) (*storage.Schedule, error) {
	if err := p.check("store schedule"); err != nil {
		return nil, err
	}
	return p.s.ScheduleUpsert(ctx, ps)
}

// ScheduleDelete removes a schedule, as Store.ScheduleDelete does.
func (p *Peer) ScheduleDelete(ctx context.Context, ps *storage.ScheduleDeleteParams) error {
	if err := p.check("delete schedule"); err != nil {
		return err
	}
	return p.s.ScheduleDelete(ctx, ps)
}

// ScheduleList lists the schedules, as Store.ScheduleList does.
func (p *Peer) ScheduleList(ctx context.Context, ps *storage.ScheduleListParams) ([]*storage.Schedule, error) {
	if err := p.check("list schedules"); err != nil {
		return nil, err
	}
	return p.s.ScheduleList(ctx, ps)
}

// ScheduleTick advances a schedule and inserts its job, as Store.ScheduleTick does.
func (p *Peer) ScheduleTick(ctx context.Context, ps *storage.ScheduleTickParams) (*storage.ScheduleTickResult, error) {
	if err := p.check("tick schedule"); err != nil {
		return nil, err
	}
	return p.s.ScheduleTick(ctx, ps)
}
