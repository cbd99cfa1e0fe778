package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jobgen/jobgen/runtime/storage"
)

// queueState is the stored state of one queue.
type queueState struct {
	paused   bool
	pausedAt int64
	updated  int64
}

// QueuePause pauses a queue: claims take nothing from it until it is resumed.
func (s *Store) QueuePause(ctx context.Context, p *storage.QueuePauseParams) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("memory: pause queue: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedError("pause queue")
	}
	q := s.queue(p.Queue)
	if !q.paused {
		now := clock(p.Now)
		q.paused, q.pausedAt, q.updated = true, now, now
	}
	return nil
}

// QueueResume resumes a paused queue.
func (s *Store) QueueResume(ctx context.Context, p *storage.QueueResumeParams) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("memory: resume queue: %w", err)
	}
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return closedError("resume queue")
	}
	if q := s.queues[p.Queue]; q != nil && q.paused {
		q.paused, q.pausedAt, q.updated = false, unset, clock(p.Now)
		if s.bus != nil {
			s.noteInserted(p.Queue) // wakes the peers' servers
		}
	}
	return nil
}

// QueueList returns the stored queue states in name order.
func (s *Store) QueueList(ctx context.Context, p *storage.QueueListParams) ([]*storage.QueueState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("list queues")
	}
	out := make([]*storage.QueueState, 0, len(s.queues))
	for name, q := range s.queues {
		out = append(out, &storage.QueueState{Name: name, Paused: q.paused, PausedAt: fromMicros(q.pausedAt), UpdatedAt: fromMicros(q.updated)})
	}
	slices.SortFunc(out, func(a, b *storage.QueueState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// queue returns the stored state of queue name, adding it when missing.
func (s *Store) queue(name string) *queueState {
	q := s.queues[name]
	if q == nil {
		q = &queueState{pausedAt: unset}
		s.queues[name] = q
	}
	return q
}

// paused reports whether queue name is paused.
func (s *Store) paused(name string) bool {
	q := s.queues[name]
	return q != nil && q.paused
}

// QueuePause pauses a queue, as Store.QueuePause does.
func (p *Peer) QueuePause(ctx context.Context, ps *storage.QueuePauseParams) error {
	if err := p.check("pause queue"); err != nil {
		return err
	}
	return p.s.QueuePause(ctx, ps)
}

// QueueResume resumes a queue, as Store.QueueResume does; the peers'
// subscribers hear of it as of an insert into the queue.
func (p *Peer) QueueResume(ctx context.Context, ps *storage.QueueResumeParams) error {
	if err := p.check("resume queue"); err != nil {
		return err
	}
	return p.s.QueueResume(ctx, ps)
}

// QueueList lists the stored queue states, as Store.QueueList does.
func (p *Peer) QueueList(ctx context.Context, ps *storage.QueueListParams) ([]*storage.QueueState, error) {
	if err := p.check("list queues"); err != nil {
		return nil, err
	}
	return p.s.QueueList(ctx, ps)
}
