package runtime

import (
	"context"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// abortCheckLoop runs on backends without notifications: every poll
// interval, and only while jobs run, it asks storage in one read which
// running jobs have an abort request (storage.JobAbortRequested) and
// cancels them, so that an abort made through another process reaches the
// job within about a poll interval instead of at the next heartbeat (a
// third of the lease). Where the backend notifies, the abort's
// notification does this and the loop does not run.
func (s *Server) abortCheckLoop() {
	defer s.maint.Done()
	ticker := time.NewTicker(s.cfg.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.maintStop:
			return
		case <-ticker.C:
		}
		s.checkAborts()
	}
}

// checkAborts cancels the running jobs that storage holds an abort request
// for.
func (s *Server) checkAborts() {
	s.mu.Lock()
	if len(s.running) == 0 {
		s.mu.Unlock()
		return
	}
	ids := make([]int64, 0, len(s.running))
	for id := range s.running {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LeaseDuration)
	defer cancel()
	requested, err := s.store.JobAbortRequested(ctx, &storage.JobAbortRequestedParams{IDs: ids})
	if err != nil {
		s.logger.Error("jobgen: abort check failed", "jobs", len(ids), "err", err)
		return
	}
	for _, id := range requested {
		if rj := s.runningJob(id); rj != nil {
			rj.requestAbort()
		}
	}
}
