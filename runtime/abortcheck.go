package runtime

import "github.com/jobgen/jobgen/runtime/storage"

// abortCheckLoop runs on backends without notifications: every poll
// interval, and only while jobs run, it asks storage in one read which
// running jobs have an abort request (storage.JobAbortRequested) and
// cancels them, so that an abort made through another process reaches the
// job within about a poll interval instead of at the next heartbeat (a
// third of the lease). Where the backend notifies, the abort's
// notification does this and the loop does not run.
func (s *Server) abortCheckLoop() {
	defer s.maint.Done()
	ticker := s.clk.clock.NewTicker(s.cfg.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.maintStop:
			return
		case <-ticker.C():
		}
		s.checkAborts()
	}
}

// checkAborts cancels the running jobs that storage holds an abort request
// for. Jobs whose handlers have returned are left out: an abort is too late
// for them.
func (s *Server) checkAborts() {
	s.mu.Lock()
	ids := make([]int64, 0, len(s.running))
	for id, rj := range s.running {
		if !rj.isDecided() {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := s.callCtx(s.life)
	defer cancel()
	requested, err := s.store.JobAbortRequested(ctx, &storage.JobAbortRequestedParams{IDs: ids})
	if err != nil {
		s.logger.Warn("jobgen: abort check failed", "jobs", len(ids), logErr, err)
		return
	}
	for _, id := range requested {
		if rj := s.runningJob(id); rj != nil {
			rj.requestAbort()
		}
	}
}
