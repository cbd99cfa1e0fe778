package runtime

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Progress reaches other processes as notifications (storage.Notifier) and
// keeps its order there: per job, every report in the order it was made,
// then the finish. Two rules hold it:
//
//   - A server ignores the progress notifications it published itself: its
//     own observers had those reports directly, and the echo of a job that
//     has finished since would come after the job's terminal event.
//   - A job's reports are published one at a time, each after the one
//     before has been sent, and its outcome is handed to the finisher only
//     once the last of them has been sent (or dropped). The finish
//     notification comes from the outcome's write, so it is sent after
//     them; a backend delivers notifications in the order they were sent
//     (PostgreSQL: in commit order), so an observer closes its
//     subscription after the last report, not before it.
//
// Progress stays a hint: reports that find the publisher behind by
// progressBacklog are dropped, and a job waits at most progressPublishTimeout
// for its reports to go out.

// progressBacklog is how many reports wait for the publisher before new
// ones are dropped.
const progressBacklog = 256

// progressPublishTimeout bounds one publish, and a finished job's wait for
// its reports to be published.
const progressPublishTimeout = 5 * time.Second

// progressNote is the payload of a progress notification: the report and
// the server that published it.
type progressNote struct {
	Progress
	// Origin is the publishing server's origin (Server.origin); zero from
	// a publisher that does not say.
	Origin uint64 `json:"o,omitempty"`
}

// decodeProgress decodes the payload of a progress notification.
func decodeProgress(payload []byte) (progressNote, error) {
	var p progressNote
	err := json.Unmarshal(payload, &p)
	return p, err
}

// progressPub is one report waiting for the publisher.
type progressPub struct {
	rj *runningJob
	n  storage.Notification
}

// publishProgress hands a report of rj to the publisher for other
// processes, or drops it when the publisher is behind. rj.publishing
// counts it already.
func (s *Server) publishProgress(rj *runningJob, p Progress) {
	payload, err := json.Marshal(progressNote{Progress: p, Origin: s.origin})
	if err != nil {
		rj.published()
		return
	}
	select {
	case s.progressCh <- progressPub{rj: rj, n: storage.Notification{Kind: storage.NotifyProgress, Queue: rj.rec.Queue, JobID: rj.rec.ID, Payload: payload}}:
	default:
		rj.published()
	}
}

// progressPublisher sends local progress to other processes, one report
// at a time, in the order they were made.
func (s *Server) progressPublisher() {
	defer s.maint.Done()
	for {
		select {
		case <-s.maintStop:
			return
		case pub := <-s.progressCh:
			ctx, cancel := context.WithTimeout(s.serving, progressPublishTimeout)
			if err := s.notifier.Publish(ctx, pub.n); err != nil {
				s.logger.Debug("jobgen: progress publish failed", jobArgs(pub.rj.rec, logErr, err)...)
			}
			cancel()
			pub.rj.published()
		}
	}
}

// published records that one of rj's reports has been sent or dropped.
func (rj *runningJob) published() {
	rj.mu.Lock()
	defer rj.mu.Unlock()
	if rj.publishing--; rj.publishing == 0 && rj.publishedCh != nil {
		close(rj.publishedCh)
		rj.publishedCh = nil
	}
}

// waitPublished returns once every report rj handed to the publisher has
// been sent, or after progressPublishTimeout. The handler has returned, so
// no report follows.
func (rj *runningJob) waitPublished() {
	rj.mu.Lock()
	if rj.publishing == 0 {
		rj.mu.Unlock()
		return
	}
	if rj.publishedCh == nil {
		rj.publishedCh = make(chan struct{})
	}
	ch := rj.publishedCh
	rj.mu.Unlock()
	// Real time, as the publishes' own timeouts are.
	timer := time.NewTimer(progressPublishTimeout)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		rj.s.logger.Debug("jobgen: progress not published in time; the finish may overtake it", jobArgs(rj.rec)...)
	}
}
