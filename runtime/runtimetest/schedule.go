package runtimetest

import (
	"context"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/clock"
	"github.com/jobgen/jobgen/runtime/storage"
)

// The schedule tests run servers on one fake clock and move it one tick at
// a time: nobody sleeps through a schedule's interval. Their poll interval
// is a day, so between ticks only the schedule loops' timers fire.

// tickEvery is the interval of the test schedules.
const tickEvery = time.Minute

// cluster is the servers of one schedule test, all over the same jobs.
type cluster struct {
	t      *testing.T
	ss     *stores
	fc     *clock.Fake
	opts   *runtime.ScheduleOpts
	handle runtime.HandlerFunc[Args, Result]
	envs   []*env // the running servers
	n      int    // servers started so far
}

func newCluster(t *testing.T, ss *stores, opts *runtime.ScheduleOpts, h runtime.HandlerFunc[Args, Result]) *cluster {
	if h == nil {
		h = noop
	}
	return &cluster{t: t, ss: ss, fc: newFakeClock(), opts: opts, handle: h}
}

// start starts one more server that registers the schedule "tick".
func (c *cluster) start() *env {
	c.t.Helper()
	newStore := func(t *testing.T) storage.Storage { return c.ss.another(t) }
	if c.n == 0 {
		newStore = c.ss.first
	}
	c.n++
	// The lease outlasts every jump of the test clock: a jump past a
	// running job's lease would let a claim rescue the job before its
	// heartbeat, on the same clock, renewed it.
	cfg := runtime.Config{Clock: c.fc, PollInterval: 24 * time.Hour, LeaseDuration: 48 * time.Hour}
	e := newLoopEnv(c.t, newStore, cfg, func(s *runtime.Server) {
		register(c.t, s, work, c.handle)
		if err := work.RegisterSchedule(s, "tick", runtime.Every(tickEvery), Args{N: 7}, c.opts); err != nil {
			c.t.Fatalf("RegisterSchedule: %v", err)
		}
	})
	e.start()
	c.envs = append(c.envs, e)
	return e
}

// stop stops server i at once (its running jobs are cancelled) and drops it.
func (c *cluster) stop(i int) {
	c.t.Helper()
	if err := c.envs[i].srv.StopAndCancel(ctxT(c.t)); err != nil {
		c.t.Fatalf("StopAndCancel: %v", err)
	}
	c.envs = append(c.envs[:i], c.envs[i+1:]...)
}

// idle waits until every running server sleeps: its schedule loop until
// the next tick.
func (c *cluster) idle() {
	c.t.Helper()
	n := 0
	for _, e := range c.envs {
		n += idleWaiters(e)
	}
	blockUntil(c.t, c.fc, n)
}

// jobs returns the jobs of kind work, in id order.
func (c *cluster) jobs() []*storage.Job {
	c.t.Helper()
	return must(c.ss.base.JobList(context.Background(), &storage.JobListParams{Kind: work.Name(), Limit: 1000}))
}

// waitJobs waits until there are n jobs of kind work, all finished.
func (c *cluster) waitJobs(n int) {
	c.t.Helper()
	eventually(c.t, "the scheduled jobs to finish", func() bool {
		js := c.jobs()
		for _, j := range js {
			if !j.State.Terminal() {
				return false
			}
		}
		return len(js) == n
	})
}

// tick moves the clock one interval on once every server sleeps.
func (c *cluster) tick() {
	c.t.Helper()
	c.idle()
	c.fc.Advance(tickEvery)
}

// schedule returns the stored schedule "tick".
func (c *cluster) schedule() *storage.Schedule {
	c.t.Helper()
	for _, sc := range must(c.envs[0].client.ListSchedules(ctxT(c.t))) {
		if sc.Name == "tick" {
			return sc
		}
	}
	c.t.Fatal("schedule tick is not stored")
	return nil
}

// testScheduleOncePerTick: three servers run one schedule for 100 ticks,
// and every tenth tick one of them is stopped and another started in its
// place. Every tick inserts exactly one job: none is skipped or repeated.
// The schedule queues overlapping jobs, so no unique key hides a second
// insert of one tick.
func testScheduleOncePerTick(t *testing.T, ss *stores) {
	c := newCluster(t, ss, &runtime.ScheduleOpts{Overlap: runtime.OverlapQueue}, nil)
	for range 3 {
		c.start()
	}
	c.idle()
	first := c.schedule().NextAt
	if want := c.fc.Now().Add(tickEvery); !first.Equal(want) {
		t.Fatalf("first tick at %v, want %v (an interval after the schedule was stored)", first, want)
	}
	const ticks = 100
	for i := 1; i <= ticks; i++ {
		if i%10 == 0 {
			c.stop(i / 10 % len(c.envs))
			c.start()
		}
		c.tick()
		c.waitJobs(i)
	}
	js := c.jobs()
	for _, j := range js {
		if j.State != storage.StateCompleted || string(j.Input) != `{"n":7}` || j.UniqueKey != "" {
			t.Fatalf("job %d: state %s, input %s, key %q; want completed, {\"n\":7}, no key", j.ID, j.State, j.Input, j.UniqueKey)
		}
	}
	sc := c.schedule()
	if want := first.Add(ticks * tickEvery); !sc.NextAt.Equal(want) {
		t.Errorf("after %d ticks the next is at %v, want %v", ticks, sc.NextAt, want)
	}
	if sc.LastJobID != js[len(js)-1].ID {
		t.Errorf("LastJobID %d, want the last job %d", sc.LastJobID, js[len(js)-1].ID)
	}
}

// testScheduleMissed: ticks missed while no server ran make one job when a
// server comes back (CatchUp), or none (SkipMissed); the schedule then
// ticks on in phase.
func testScheduleMissed(t *testing.T, ss *stores) {
	for _, tc := range []struct {
		missed runtime.Missed
		jobs   int
	}{{runtime.CatchUp, 1}, {runtime.SkipMissed, 0}} {
		t.Run(string(tc.missed), func(t *testing.T) {
			c := newCluster(t, newStores(t, ss.b, ss.notify), &runtime.ScheduleOpts{Missed: tc.missed}, nil)
			c.start()
			c.idle()
			first := c.schedule().NextAt
			c.stop(0)
			c.fc.Advance(5*tickEvery + tickEvery/2) // five ticks pass with no server
			c.start()
			c.idle()
			c.waitJobs(tc.jobs)
			if next, want := c.schedule().NextAt, first.Add(5*tickEvery); !next.Equal(want) {
				t.Fatalf("next tick at %v after the outage, want %v", next, want)
			}
			c.fc.Advance(tickEvery / 2)
			c.waitJobs(tc.jobs + 1)
		})
	}
}

// testScheduleRemoved: a removed schedule inserts no more jobs, though its
// ticks come and go.
func testScheduleRemoved(t *testing.T, ss *stores) {
	c := newCluster(t, ss, nil, nil)
	c.start()
	c.tick()
	c.waitJobs(1)
	client, _ := ss.observer(t)
	if err := client.RemoveSchedule(ctxT(t), "tick"); err != nil {
		t.Fatalf("RemoveSchedule: %v", err)
	}
	if err := client.RemoveSchedule(ctxT(t), "tick"); !isErr(err, runtime.ErrScheduleNotFound) {
		t.Fatalf("RemoveSchedule again: %v, want ErrScheduleNotFound", err)
	}
	for range 3 {
		c.tick()
	}
	c.idle()
	if js := c.jobs(); len(js) != 1 {
		t.Fatalf("%d jobs after the schedule was removed, want 1", len(js))
	}
	if scs := must(client.ListSchedules(ctxT(t))); len(scs) != 0 {
		t.Fatalf("ListSchedules after removal: %d schedules", len(scs))
	}
}

// testScheduleOverlap: a tick while the previous tick's job still runs
// inserts nothing with OverlapSkip and a second job with OverlapQueue.
func testScheduleOverlap(t *testing.T, ss *stores) {
	for _, tc := range []struct {
		overlap runtime.Overlap
		jobs    int
	}{{runtime.OverlapSkip, 1}, {runtime.OverlapQueue, 2}} {
		t.Run(string(tc.overlap), func(t *testing.T) {
			started, release := make(chan int64, 2), make(chan struct{})
			c := newCluster(t, newStores(t, ss.b, ss.notify), &runtime.ScheduleOpts{Overlap: tc.overlap}, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
				started <- j.ID
				select {
				case <-release:
				case <-ctx.Done():
				}
				return Result{}, nil
			})
			c.start()
			c.tick()
			id := recv(t, started, "the first scheduled job to start")
			c.idle()
			next := c.schedule().NextAt
			c.fc.Advance(tickEvery)
			eventually(t, "the second tick", func() bool { return c.schedule().NextAt.After(next) })
			js := c.jobs()
			if len(js) != tc.jobs || js[0].ID != id {
				t.Fatalf("%d jobs after a tick while job %d runs, want %d", len(js), id, tc.jobs)
			}
			if want := map[runtime.Overlap]string{runtime.OverlapSkip: "schedule:tick"}[tc.overlap]; js[0].UniqueKey != want {
				t.Errorf("job has unique key %q, want %q", js[0].UniqueKey, want)
			}
			close(release)
			c.waitJobs(tc.jobs)
		})
	}
}

// testScheduleAddWhileRunning: a schedule added through a running server's
// client ticks on that server; ListSchedules shows it with its next tick;
// an invalid schedule is refused before anything is stored.
func testScheduleAddWhileRunning(t *testing.T, newStore NewStore) {
	fc := newFakeClock()
	ran := make(chan int, 4)
	e := newLoopEnv(t, newStore, runtime.Config{Clock: fc, PollInterval: 24 * time.Hour}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			ran <- j.Args.N
			return Result{}, nil
		})
	})
	e.start()
	blockUntil(t, fc, idleWaiters(e))
	for _, bad := range []struct {
		spec runtime.Spec
		opts *runtime.ScheduleOpts
	}{
		{runtime.Cron("61 * * * *"), nil},
		{runtime.Cron("0 3 * * *"), &runtime.ScheduleOpts{TimeZone: "Mars/Olympus"}},
		{runtime.Every(0), nil},
		{runtime.Every(time.Hour), &runtime.ScheduleOpts{TimeZone: "Europe/Paris"}},
		{runtime.Spec{}, nil},
	} {
		if _, err := work.AddSchedule(ctxT(t), e.client, "bad", bad.spec, Args{}, bad.opts); !isErr(err, runtime.ErrInvalidOption) {
			t.Errorf("AddSchedule(%q, %+v): %v, want ErrInvalidOption", bad.spec, bad.opts, err)
		}
	}
	sc := must(work.AddSchedule(ctxT(t), e.client, "hourly", runtime.Every(time.Hour), Args{N: 3}, nil))
	if want := fc.Now().Add(time.Hour); !sc.NextAt.Equal(want) || sc.Kind != work.Name() || sc.Queue != work.Opts().Queue {
		t.Fatalf("AddSchedule = %+v, want kind %s, queue %s, next at %v", sc, work.Name(), work.Opts().Queue, want)
	}
	blockUntil(t, fc, idleWaiters(e))
	fc.Advance(time.Hour)
	if n := recv(t, ran, "the added schedule's job"); n != 3 {
		t.Fatalf("job ran with N %d, want 3", n)
	}
	scs := must(e.client.ListSchedules(ctxT(t)))
	if len(scs) != 1 || !scs[0].NextAt.Equal(sc.NextAt.Add(time.Hour)) {
		t.Fatalf("ListSchedules = %v, want hourly with its next tick an hour on", scs)
	}
}

// testSchedulePausedQueue: the ticks of a schedule whose queue is paused
// still insert their jobs, which wait in the queue until it is resumed.
func testSchedulePausedQueue(t *testing.T, ss *stores) {
	c := newCluster(t, ss, &runtime.ScheduleOpts{Overlap: runtime.OverlapQueue}, nil)
	e := c.start()
	if err := e.client.PauseQueue(ctxT(t), work.Opts().Queue); err != nil {
		t.Fatalf("PauseQueue: %v", err)
	}
	c.tick()
	c.tick()
	c.idle()
	js := c.jobs()
	if len(js) != 2 || js[0].State != storage.StatePending || js[1].State != storage.StatePending {
		t.Fatalf("jobs of two ticks while the queue is paused: %v, want two pending", jobStates(js))
	}
	if err := e.client.ResumeQueue(ctxT(t), work.Opts().Queue); err != nil {
		t.Fatalf("ResumeQueue: %v", err)
	}
	c.waitJobs(2)
}

func jobStates(js []*storage.Job) []storage.State {
	var out []storage.State
	for _, j := range js {
		out = append(out, j.State)
	}
	return out
}
