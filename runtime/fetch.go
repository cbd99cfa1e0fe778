package runtime

import (
	"context"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// fetchLoop claims and starts jobs of one queue until Stop begins. It wakes
// on an attached submit, a freed slot of a full queue, a retry write, a
// storage notification or the poll timer; a wake-up that arrives while it is busy is
// latched (q.wake, q.freed), so the next wait returns at once. When nothing is
// ready it sleeps until the earliest deferred job is due or the poll
// interval passes, whichever is sooner, on the server's clock; its timer is
// armed only while it sleeps (see clock.Fake.BlockUntil). The short pauses
// of cooldown and coalesce run on the system clock.
func (s *Server) fetchLoop(q *queue) {
	defer s.loops.Done()
	defer q.bound.stop()
	timer := s.clk.clock.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	pause := time.NewTimer(time.Hour)
	pause.Stop()
	defer pause.Stop()
	for {
		select {
		case <-s.stopCh:
			return
		default:
		}
		began := time.Now()
		delay, again, full := s.fetch(q)
		claimed := time.Now()
		took := claimed.Sub(began)
		if again {
			continue
		}
		// A freed slot matters only when the queue was full: otherwise the
		// last claim found fewer jobs than slots, and new ones announce
		// themselves (submit, notification, retry write, timer).
		var freed <-chan struct{}
		if full {
			freed = q.freed
		}
		timer.Reset(delay)
		select {
		case <-q.wake:
			timer.Stop()
			if !s.cooldown(q, pause, claimed, took) {
				return
			}
		case <-freed:
			timer.Stop()
			if !s.coalesce(q, pause) {
				return
			}
		case <-timer.C():
		case <-s.stopCh:
			return
		}
	}
}

// coalesce waits, after a freed slot woke the loop, until half of q's slots
// are free, no job runs, a submit wakes the loop or fetchCooldown passes,
// so that one claim fills many slots. It returns false when Stop began.
func (s *Server) coalesce(q *queue, timer *time.Timer) bool {
	if !q.coalesce() {
		return true
	}
	timer.Reset(fetchCooldown)
	for q.coalesce() {
		select {
		case <-q.freed:
		case <-q.wake:
			return true
		case <-timer.C:
			return true
		case <-s.stopCh:
			return false
		}
	}
	return true
}

// cooldown waits, after a submit or notification woke a loop whose queue
// has jobs running, until as long as its last claim took (at most
// fetchCooldown) has passed since that claim, so that under a stream of
// submits one claim takes several jobs and claims keep the storage busy at
// most half the time. Where a claim is cheap (memory) that is no wait at
// all; an idle queue claims at once. It returns false when Stop began.
func (s *Server) cooldown(q *queue, timer *time.Timer, claimed time.Time, took time.Duration) bool {
	if q.inflight.Load() == 0 {
		return true
	}
	wait := min(took, fetchCooldown) - time.Since(claimed)
	if wait <= 0 {
		return true
	}
	timer.Reset(wait)
	select {
	case <-timer.C:
		return true
	case <-s.stopCh:
		return false
	}
}

// fetchCooldown is how long a loop woken by a freed slot waits for more
// slots to free before it claims, when less than half its slots are free,
// and the most a loop with jobs running waits after a submit or
// notification (see cooldown).
const fetchCooldown = time.Millisecond

// fetch makes one claim for q and starts what it got. It returns how long
// the loop may sleep, or again when it should claim once more right away,
// and full when it could not claim because every slot or every limiter
// permit was taken.
func (s *Server) fetch(q *queue) (delay time.Duration, again, full bool) {
	poll := s.cfg.PollInterval
	if held := q.hold.remaining(s.clk.now()); held > 0 {
		return held, false, false // until the hold ends
	}
	free := q.reserve(q.maxWorkers)
	if free <= 0 {
		return poll, false, true // a finishing job wakes the loop
	}
	n := free
	if q.limiter != nil {
		ctx, cancel := s.callCtx(s.serving) // a shared limiter asks its database
		got, wait, err := q.limiter.Acquire(ctx, time.Now(), free)
		cancel()
		if err != nil {
			q.unreserve(free)
			s.logger.Warn("jobgen: limiter failed", logQueue, q.name, logErr, err)
			return poll, false, false
		}
		if got <= 0 {
			q.unreserve(free)
			if wait <= 0 || wait > poll {
				wait = poll
			}
			return wait, false, true // or a finishing job frees a permit
		}
		n = min(got, free)
		q.unreserve(free - n)
		if got > n {
			s.limiterRelease(q, got-n)
		}
	}
	slot := s.claims.enter()
	defer s.claims.exit(slot) // once what it claimed is in the running set
	res, err := s.store.JobClaim(q.bound.get(s.serving, time.Now(), s.cfg.LeaseDuration), &storage.JobClaimParams{
		Queue:         q.name,
		Kinds:         s.kindNames,
		Limit:         n,
		LeaseDuration: s.cfg.LeaseDuration,
		Now:           s.clk.storeNow(),
	})
	if err != nil {
		q.unreserve(n)
		if q.limiter != nil {
			s.limiterRelease(q, n)
		}
		if s.serving.Err() == nil { // else the hard stop cancelled it
			s.logger.Warn("jobgen: claim failed", logQueue, q.name, logErr, err)
		}
		return poll, false, false
	}
	q.unreserve(n - len(res.Jobs))
	if q.limiter != nil && len(res.Jobs) < n {
		s.limiterRelease(q, n-len(res.Jobs))
	}
	stopping := s.closing.Load()
	if len(res.Jobs) > 0 {
		s.startAll(q, res.Jobs, res.Now, stopping)
	}
	if len(res.Jobs) == n && !stopping {
		return 0, true, false
	}
	delay = poll
	if !res.NextRunAfter.IsZero() {
		if d := res.NextRunAfter.Sub(res.Now); d < delay {
			delay = max(d, time.Millisecond)
		}
	}
	return delay, false, false
}

func (s *Server) limiterRelease(q *queue, n int) {
	ctx, cancel := s.callCtx(s.life)
	defer cancel()
	if err := q.limiter.Release(ctx, time.Now(), n); err != nil {
		s.logger.Error("jobgen: limiter release failed", logQueue, q.name, logErr, err)
	}
}

// submit stores p for the server's own client and gets its job going. A
// submit with no other of the client in flight, of a kind this server runs
// in a queue with a free slot and no limiter, inserts and claims one job in
// one storage call where the storage can (storage.InsertClaimer), so that a
// job submitted to an idle server starts after one commit instead of two;
// the claim takes jobs in claim order, the new job or one ahead of it.
// Other submits insert, so that a backend can batch concurrent inserts, and
// wake the loop, which claims their jobs together. inserted is called with
// the insert's result before anything it claimed starts.
func (s *Server) submit(ctx context.Context, p *storage.JobInsertParams, inserted func(*storage.JobInsertResult)) (*storage.JobInsertResult, error) {
	alone := s.submitting.Add(1) == 1
	defer s.submitting.Add(-1)
	ic, can := s.store.(storage.InsertClaimer)
	var q *queue
	if alone && can && !p.RunAfter.After(s.clk.now()) {
		q = s.reserveForSubmit(p)
	}
	if q == nil {
		res, err := s.store.JobInsert(ctx, p)
		if err != nil {
			return nil, err
		}
		inserted(res)
		if !res.Duplicate {
			s.wakeQueue(p.Queue)
		}
		return res, nil
	}
	defer s.loops.Done()
	slot := s.claims.enter()
	defer s.claims.exit(slot) // once what it claimed is in the running set
	res, claimed, err := ic.JobInsertClaim(ctx, p, &storage.JobClaimParams{
		Queue:         q.name,
		Kinds:         s.kindNames,
		Limit:         1,
		LeaseDuration: s.cfg.LeaseDuration,
		Now:           p.Now,
	})
	if err != nil {
		q.slotFreed()
		return nil, err
	}
	inserted(res)
	if len(claimed.Jobs) == 0 {
		q.slotFreed()
	} else {
		s.startAll(q, claimed.Jobs, claimed.Now, s.closing.Load())
	}
	if !res.Duplicate && (len(claimed.Jobs) == 0 || claimed.Jobs[0].ID != res.Job.ID) {
		s.wakeQueue(p.Queue) // the new job waits for the loop
	}
	return res, nil
}

// reserveForSubmit reserves a slot of p's queue for a submit that claims,
// and counts the claim in s.loops, so that Stop waits for it as for a fetch
// loop's. It returns nil when the server is not running, does not run p's
// kind, or the queue has a limiter, a hold or no free slot.
func (s *Server) reserveForSubmit(p *storage.JobInsertParams) *queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.closing.Load() {
		return nil
	}
	// Queues and kinds are fixed once started.
	q := s.queues[p.Queue]
	if q == nil || q.limiter != nil || s.kinds[p.Kind] == nil || q.hold.remaining(s.clk.now()) > 0 || q.reserve(1) == 0 {
		return nil
	}
	s.loops.Add(1)
	return q
}
