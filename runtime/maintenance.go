package runtime

import (
	"context"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// startMaintenance starts the heartbeat, the retention sweep (only when a
// TTL is positive), and the storage subscription and progress publisher on
// backends with notifications or the abort check on backends without.
func (s *Server) startMaintenance() {
	s.maint.Add(1)
	go s.heartbeatLoop()
	if s.cfg.Retention.anyPositive() {
		s.maint.Add(1)
		go s.sweepLoop()
	}
	if s.notifier != nil {
		ctx, cancel := context.WithCancel(s.serving)
		ch, err := s.notifier.Subscribe(ctx)
		if err != nil {
			cancel()
			s.logger.Warn("jobgen: storage subscription failed; relying on polling", "err", err)
		} else {
			s.maint.Add(1)
			go s.subscriptionLoop(ch, cancel)
		}
		s.progressCh = make(chan progressPub, progressBacklog)
		s.maint.Add(1)
		go s.progressPublisher()
	} else {
		s.maint.Add(1)
		go s.abortCheckLoop()
	}
}

// heartbeatLoop renews the leases of running jobs every third of the lease
// duration, in one storage call per round, and only while jobs run.
func (s *Server) heartbeatLoop() {
	defer s.maint.Done()
	ticker := s.clk.clock.NewTicker(s.cfg.LeaseDuration / 3)
	defer ticker.Stop()
	for {
		select {
		case <-s.maintStop:
			return
		case <-ticker.C():
		case <-s.beat:
		}
		s.heartbeat()
	}
}

// heartbeat renews the leases of the jobs whose handlers still run. A job
// whose handler has returned is left out: its outcome write is on its way,
// fenced by its lease token, and tells whether the lease still held (see
// finisher.flush), so a lease the heartbeat finds gone because that write
// committed first is no alarm.
func (s *Server) heartbeat() {
	s.mu.Lock()
	leases := make([]storage.Lease, 0, len(s.running))
	for id, rj := range s.running {
		if !rj.isDecided() {
			leases = append(leases, storage.Lease{ID: id, Token: rj.rec.LeaseToken})
		}
	}
	s.mu.Unlock()
	if len(leases) == 0 {
		return
	}
	ctx, cancel := s.callCtx(s.life)
	defer cancel()
	res, err := s.store.JobHeartbeat(ctx, &storage.JobHeartbeatParams{Leases: leases, LeaseDuration: s.cfg.LeaseDuration, Now: s.clk.storeNow()})
	if err != nil {
		s.logger.Error("jobgen: heartbeat failed", "jobs", len(leases), "err", err)
		return
	}
	for _, id := range res.Lost {
		rj := s.runningJob(id)
		switch {
		case rj == nil: // written and released meanwhile
		case rj.isDecided():
			s.logger.Debug("jobgen: lease gone after the handler returned; the outcome write tells", "job_id", id, "kind", rj.rec.Kind)
		default:
			s.logger.Warn("jobgen: lease lost; cancelling the job, its outcome will not be written", "job_id", id, "kind", rj.rec.Kind)
			rj.lost.Store(true)
			rj.cancel(ErrLeaseLost)
		}
	}
	for _, id := range res.AbortRequested {
		if rj := s.runningJob(id); rj != nil {
			rj.requestAbort()
		}
	}
}

// sweepLoop deletes finished jobs older than their retention TTL.
func (s *Server) sweepLoop() {
	defer s.maint.Done()
	ticker := s.clk.clock.NewTicker(s.cfg.Retention.SweepInterval)
	defer ticker.Stop()
	for {
		s.sweep()
		select {
		case <-s.maintStop:
			return
		case <-ticker.C():
		}
	}
}

func (s *Server) sweep() {
	r := s.cfg.Retention
	for _, x := range []struct {
		state storage.State
		ttl   time.Duration
	}{{storage.StateCompleted, r.Completed}, {storage.StateFailed, r.Failed}, {storage.StateAborted, r.Aborted}} {
		if x.ttl <= 0 {
			continue
		}
		ctx, cancel := s.callCtx(s.serving)
		n, err := s.store.JobDeleteFinished(ctx, &storage.JobDeleteFinishedParams{State: x.state, FinishedBefore: s.clk.now().Add(-x.ttl)})
		cancel()
		if err != nil {
			if s.serving.Err() == nil { // else the hard stop cancelled it
				s.logger.Error("jobgen: retention sweep failed", "state", x.state, "err", err)
			}
			continue
		}
		if n > 0 {
			s.logger.Debug("jobgen: retention sweep", "state", x.state, "deleted", n)
		}
	}
}

// subscriptionLoop applies storage notifications: other processes' submits
// wake loops, abort requests cancel local jobs, finishes and progress reach
// waiters and subscribers, and a resync re-reads everything that matters.
func (s *Server) subscriptionLoop(ch <-chan storage.Notification, cancel context.CancelFunc) {
	defer s.maint.Done()
	defer func() {
		cancel()
		for range ch { // the backend closes ch once ctx is cancelled
		}
	}()
	for {
		select {
		case <-s.maintStop:
			return
		case n, ok := <-ch:
			if !ok {
				return
			}
			s.notified(n)
		}
	}
}

func (s *Server) notified(n storage.Notification) {
	switch n.Kind {
	case storage.NotifyInserted:
		s.wakeQueue(n.Queue)
	case storage.NotifyAbortRequested:
		if rj := s.runningJob(n.JobID); rj != nil {
			rj.requestAbort()
		}
	case storage.NotifyProgress:
		// This server's own reports reached its observers directly.
		if p, err := decodeProgress(n.Payload); err != nil || p.Origin != s.origin {
			s.hub.notified(n)
		}
	case storage.NotifyResync:
		s.mu.Lock()
		for _, q := range s.queues {
			q.wakeUp()
		}
		s.mu.Unlock()
		latch(s.beat)
		s.hub.notified(n)
	default:
		s.hub.notified(n)
	}
}
