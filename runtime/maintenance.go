package runtime

import (
	"context"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// startMaintenance starts the heartbeat, the retention sweep (unless every
// TTL is KeepForever), and the storage subscription and progress publisher
// on backends with notifications or the abort check on backends without.
func (s *Server) startMaintenance() {
	s.maint.Add(1)
	go s.heartbeatLoop()
	if s.cfg.Retention.sweeps() {
		s.maint.Add(1)
		go s.sweepLoop()
	}
	if s.notifier != nil {
		ctx, cancel := context.WithCancel(s.serving)
		ch, err := s.notifier.Subscribe(ctx)
		if err != nil {
			cancel()
			s.logger.Warn("jobgen: storage subscription failed; relying on polling", logErr, err)
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
// committed first is no alarm. While the finisher retries a failed write,
// the jobs whose outcomes wait for it are renewed too, so that storage
// trouble does not cost them their leases; one whose lease is gone is
// written no more, and the finisher reads back whether a failed write of
// it landed.
func (s *Server) heartbeat() {
	retrying := s.fin.retrying.Load()
	s.mu.Lock()
	leases := make([]storage.Lease, 0, len(s.running))
	for id, rj := range s.running {
		if !rj.isDecided() || retrying {
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
		s.logger.Warn("jobgen: heartbeat failed", "jobs", len(leases), logErr, err)
		return
	}
	for _, id := range res.Lost {
		rj := s.runningJob(id)
		switch {
		case rj == nil: // written and released meanwhile
		case rj.isDecided() && retrying:
			s.logger.Warn("jobgen: lease lost while the job's outcome waits for storage; unless a write of it already landed, it will not be written", jobArgs(rj.rec)...)
			rj.lost.Store(true)
		case rj.isDecided():
			s.logger.Debug("jobgen: lease gone after the handler returned; the outcome write tells", jobArgs(rj.rec)...)
		default:
			s.logger.Warn("jobgen: lease lost; cancelling the job, its outcome will not be written", jobArgs(rj.rec)...)
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

// maxSweepPause caps the pause between two delete statements of the
// retention sweep.
const maxSweepPause = 100 * time.Millisecond

// sweepLoop runs a retention sweep round when the server starts and then
// every SweepInterval, until Stop. A round in progress ends after its
// current batch once Stop has drained the jobs (or at once at the hard
// stop, which cancels the batch).
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

// sweep is one retention round: for each terminal state whose TTL is not
// KeepForever it deletes the jobs that finished before now minus the TTL
// (before now for a negative TTL, which catches the jobs that reached the
// state without the finisher, such as pending jobs aborted), in batches of
// SweepBatch, until a batch comes back short. The cutoff is fixed for the
// round, so a round ends however fast jobs finish meanwhile. Each batch is
// one short statement, bounded as every call of the server is (see
// callCtx); after each the sweep pauses as long as the batch took (at most
// maxSweepPause, on the system clock: it paces the storage, not the jobs),
// so it keeps the storage (SQLite's single writer, PostgreSQL's
// connections) busy at most half the time and the server's own writes go
// in between.
func (s *Server) sweep() {
	r := s.cfg.Retention
	for _, x := range []struct {
		state storage.State
		ttl   time.Duration
	}{{storage.StateCompleted, r.Completed}, {storage.StateFailed, r.Failed}, {storage.StateAborted, r.Aborted}} {
		if x.ttl == KeepForever {
			continue
		}
		p := &storage.JobDeleteFinishedParams{State: x.state, FinishedBefore: s.clk.now().Add(-max(x.ttl, 0)), Limit: r.SweepBatch}
		deleted, err := s.sweepState(p)
		if err != nil && s.serving.Err() == nil { // else the hard stop cancelled it
			s.logger.Warn("jobgen: retention sweep failed", "state", x.state, "deleted", deleted, logErr, err)
		}
		if deleted > 0 {
			s.logger.Debug("jobgen: retention sweep", "state", x.state, "deleted", deleted)
		}
		if s.sweepStopped() {
			return
		}
	}
}

// sweepStopped reports whether the sweep must end: the server is stopping
// its maintenance, or the hard stop came.
func (s *Server) sweepStopped() bool {
	select {
	case <-s.maintStop:
		return true
	default:
		return s.serving.Err() != nil
	}
}

// sweepState deletes the jobs p selects, batch by batch (see sweep), and
// returns how many it deleted.
func (s *Server) sweepState(p *storage.JobDeleteFinishedParams) (int, error) {
	var pause *time.Timer
	total := 0
	for {
		start := time.Now()
		ctx, cancel := s.callCtx(s.serving)
		n, err := s.store.JobDeleteFinished(ctx, p)
		cancel()
		total += n
		if err != nil || n < p.Limit || s.sweepStopped() {
			return total, err
		}
		d := min(time.Since(start), maxSweepPause)
		if pause == nil {
			pause = time.NewTimer(d)
			defer pause.Stop()
		} else {
			pause.Reset(d)
		}
		select {
		case <-s.maintStop:
			return total, nil
		case <-s.serving.Done():
			return total, s.serving.Err()
		case <-pause.C:
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
