package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jobgen/jobgen/runtime/storage"
)

// ScheduleUpsert stores a schedule by name, keeping the NextAt of an
// existing one whose spec and time zone are unchanged.
func (s *Store) ScheduleUpsert(ctx context.Context, p *storage.ScheduleUpsertParams) (*storage.Schedule, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("memory: store schedule: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("store schedule")
	}
	now := fromMicros(clock(p.Now))
	old := s.schedules[p.Name]
	sc := &storage.Schedule{
		Name: p.Name, Kind: p.Kind, Queue: p.Queue, Input: bytes.Clone(p.Input),
		Priority: p.Priority, MaxAttempts: p.MaxAttempts, Timeout: p.Timeout,
		Spec: p.Spec, TimeZone: p.TimeZone, Overlap: p.Overlap, Missed: p.Missed,
		NextAt: fromMicros(micros(p.NextAt)), CreatedAt: now, UpdatedAt: now,
	}
	if old != nil {
		sc.CreatedAt, sc.LastJobID = old.CreatedAt, old.LastJobID
		if old.Spec == p.Spec && old.TimeZone == p.TimeZone {
			sc.NextAt = old.NextAt
		}
	}
	if s.schedules == nil {
		s.schedules = make(map[string]*storage.Schedule)
	}
	s.schedules[p.Name] = sc
	return cloneSchedule(sc), nil
}

// ScheduleDelete removes a schedule.
func (s *Store) ScheduleDelete(ctx context.Context, p *storage.ScheduleDeleteParams) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedError("delete schedule")
	}
	if s.schedules[p.Name] == nil {
		return fmt.Errorf("memory: delete schedule %q: %w", p.Name, storage.ErrScheduleNotFound)
	}
	delete(s.schedules, p.Name)
	return nil
}

// ScheduleList returns copies of every schedule in name order.
func (s *Store) ScheduleList(ctx context.Context, p *storage.ScheduleListParams) ([]*storage.Schedule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedError("list schedules")
	}
	out := make([]*storage.Schedule, 0, len(s.schedules))
	for _, sc := range s.schedules {
		out = append(out, cloneSchedule(sc))
	}
	slices.SortFunc(out, func(a, b *storage.Schedule) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ScheduleTick advances a schedule from p.From to p.To and inserts its job,
// under one hold of the store's lock, when its NextAt is still p.From.
func (s *Store) ScheduleTick(ctx context.Context, p *storage.ScheduleTickParams) (*storage.ScheduleTickResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("memory: tick schedule %q: %w", p.Name, err)
	}
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return nil, closedError("tick schedule")
	}
	sc := s.schedules[p.Name]
	if sc == nil || !sc.NextAt.Equal(fromMicros(micros(p.From))) {
		return &storage.ScheduleTickResult{}, nil
	}
	now := clock(p.Now)
	sc.NextAt = fromMicros(micros(p.To))
	sc.UpdatedAt = fromMicros(now)
	res := &storage.ScheduleTickResult{Advanced: true}
	if p.Job != nil {
		jp := *p.Job
		if jp.Now.IsZero() {
			jp.Now = p.Now
		}
		j, dup := s.insert(&jp, clock(jp.Now))
		if !dup {
			sc.LastJobID = j.id
			if s.bus != nil {
				s.noteInserted(jp.Queue)
			}
		}
		res.Job = &storage.JobInsertResult{Job: j.clone(), Duplicate: dup}
	}
	return res, nil
}

func cloneSchedule(sc *storage.Schedule) *storage.Schedule {
	c := *sc
	c.Input = bytes.Clone(sc.Input)
	return &c
}
