package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jobgen/jobgen/runtime/storage"
)

// schedule returns upsert params for schedule name of kind "tick" in queue
// "q", first due at next.
func schedule(name string, next time.Time) *storage.ScheduleUpsertParams {
	return &storage.ScheduleUpsertParams{
		Name: name, Kind: "tick", Queue: "q", Input: []byte(`{"n":1}`), Priority: 2, MaxAttempts: 3,
		Timeout: time.Minute, Spec: "@every 1m0s", Overlap: "skip", Missed: "catch_up", NextAt: next, Now: base,
	}
}

// upsert stores p and returns the stored schedule.
func (x *fixture) upsert(p *storage.ScheduleUpsertParams) *storage.Schedule {
	x.t.Helper()
	sc, err := x.s.ScheduleUpsert(x.ctx, p)
	if err != nil {
		x.t.Fatalf("ScheduleUpsert(%q): %v", p.Name, err)
	}
	return sc
}

// schedules lists the stored schedules.
func (x *fixture) schedules() []*storage.Schedule {
	x.t.Helper()
	scs, err := x.s.ScheduleList(x.ctx, &storage.ScheduleListParams{})
	if err != nil {
		x.t.Fatalf("ScheduleList: %v", err)
	}
	return scs
}

// tick ticks schedule name from from to to with job j.
func (x *fixture) tick(name string, from, to time.Time, j *storage.JobInsertParams) *storage.ScheduleTickResult {
	x.t.Helper()
	res, err := x.s.ScheduleTick(x.ctx, &storage.ScheduleTickParams{Name: name, From: from, To: to, Job: j, Now: from})
	if err != nil {
		x.t.Fatalf("ScheduleTick(%q, from %v): %v", name, from, err)
	}
	return res
}

// nextAt returns the stored NextAt of schedule name.
func (x *fixture) nextAt(name string) time.Time {
	x.t.Helper()
	for _, sc := range x.schedules() {
		if sc.Name == name {
			return sc.NextAt
		}
	}
	x.t.Fatalf("schedule %q not stored", name)
	return time.Time{}
}

func testSchedule(t *testing.T, b Backend) {
	f := factory(b.New)
	f.run(t, "UpsertAndList", func(t *testing.T, x *fixture) {
		p := schedule("b", at(time.Minute))
		got := x.upsert(p)
		x.upsert(schedule("a", at(time.Hour)))
		want := &storage.Schedule{
			Name: "b", Kind: "tick", Queue: "q", Input: []byte(`{"n":1}`), Priority: 2, MaxAttempts: 3, Timeout: time.Minute,
			Spec: "@every 1m0s", Overlap: "skip", Missed: "catch_up", NextAt: at(time.Minute), CreatedAt: base, UpdatedAt: base,
		}
		checkSchedule(t, "ScheduleUpsert", got, want)
		scs := x.schedules()
		if len(scs) != 2 || scs[0].Name != "a" || scs[1].Name != "b" {
			t.Fatalf("ScheduleList = %v, want schedules a and b in name order", scheduleNames(scs))
		}
		checkSchedule(t, "ScheduleList", scs[1], want)
	})

	f.run(t, "UpsertKeepsNextTickOfSameSpec", func(t *testing.T, x *fixture) {
		x.upsert(schedule("s", at(time.Minute)))
		// Another server stores the same schedule later: its tick stays.
		p := schedule("s", at(90*time.Second))
		p.Input, p.Queue, p.Now = []byte(`{"n":2}`), "r", at(30*time.Second)
		sc := x.upsert(p)
		checkTime(t, "NextAt after storing the same spec again", sc.NextAt, at(time.Minute))
		if string(sc.Input) != `{"n":2}` || sc.Queue != "r" {
			t.Errorf("stored again: input %s, queue %q; want the new ones", sc.Input, sc.Queue)
		}
		checkTime(t, "CreatedAt", sc.CreatedAt, base)
		// A new spec, or a new time zone, takes the new first tick.
		p = schedule("s", at(2*time.Hour))
		p.Spec = "0 3 * * *"
		checkTime(t, "NextAt of a new spec", x.upsert(p).NextAt, at(2*time.Hour))
		p = schedule("s", at(3*time.Hour))
		p.Spec, p.TimeZone = "0 3 * * *", "Europe/Paris"
		checkTime(t, "NextAt of a new time zone", x.upsert(p).NextAt, at(3*time.Hour))
	})

	f.run(t, "UpsertRefusesInvalid", func(t *testing.T, x *fixture) {
		for name, mod := range map[string]func(*storage.ScheduleUpsertParams){
			"bad name":     func(p *storage.ScheduleUpsertParams) { p.Name = "Bad Name" },
			"empty spec":   func(p *storage.ScheduleUpsertParams) { p.Spec = "" },
			"no next tick": func(p *storage.ScheduleUpsertParams) { p.NextAt = time.Time{} },
			"no attempts":  func(p *storage.ScheduleUpsertParams) { p.MaxAttempts = 0 },
			"empty queue":  func(p *storage.ScheduleUpsertParams) { p.Queue = "" },
		} {
			p := schedule("s", at(time.Minute))
			mod(p)
			if _, err := x.s.ScheduleUpsert(x.ctx, p); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("%s: ScheduleUpsert: %v, want ErrInvalid", name, err)
			}
		}
		if scs := x.schedules(); len(scs) != 0 {
			t.Errorf("invalid upserts stored %v", scheduleNames(scs))
		}
	})

	// The rule of a tick: it advances the schedule from the NextAt it read
	// and inserts the tick's job only when the stored NextAt is still that.
	f.run(t, "TickIsCompareAndSet", func(t *testing.T, x *fixture) {
		x.upsert(schedule("s", at(time.Minute)))
		j := job("q", "tick")
		j.Now = at(time.Minute)
		res := x.tick("s", at(time.Minute), at(2*time.Minute), j)
		if !res.Advanced || res.Job == nil || res.Job.Duplicate {
			t.Fatalf("first tick: %+v, want Advanced with a new job", res)
		}
		x.want(res.Job.Job)
		checkTime(t, "NextAt after the tick", x.nextAt("s"), at(2*time.Minute))
		if sc := x.schedules()[0]; sc.LastJobID != res.Job.Job.ID {
			t.Errorf("LastJobID = %d, want %d", sc.LastJobID, res.Job.Job.ID)
		}
		// The same tick again (a server that read the old NextAt) does nothing.
		if again := x.tick("s", at(time.Minute), at(2*time.Minute), job("q", "tick")); again.Advanced || again.Job != nil {
			t.Errorf("repeated tick: %+v, want not Advanced and no job", again)
		}
		if n := x.count(); n != 1 {
			t.Errorf("%d jobs after two calls for one tick, want 1", n)
		}
	})

	f.run(t, "TickWithoutJob", func(t *testing.T, x *fixture) {
		x.upsert(schedule("s", at(time.Minute)))
		if res := x.tick("s", at(time.Minute), at(time.Hour), nil); !res.Advanced || res.Job != nil {
			t.Errorf("skipped tick: %+v, want Advanced and no job", res)
		}
		checkTime(t, "NextAt after a skipped tick", x.nextAt("s"), at(time.Hour))
		if n := x.count(); n != 0 {
			t.Errorf("a skipped tick inserted %d jobs", n)
		}
	})

	f.run(t, "TickHonoursUniqueKey", func(t *testing.T, x *fixture) {
		x.upsert(schedule("s", at(time.Minute)))
		holder := x.tick("s", at(time.Minute), at(2*time.Minute), keyed("q", "tick", "schedule:s")).Job.Job
		res := x.tick("s", at(2*time.Minute), at(3*time.Minute), keyed("q", "tick", "schedule:s"))
		if !res.Advanced || res.Job == nil || !res.Job.Duplicate || res.Job.Job.ID != holder.ID {
			t.Fatalf("tick while the key is held: %+v, want Advanced, Duplicate of job %d", res, holder.ID)
		}
		if n := x.count(); n != 1 {
			t.Errorf("%d jobs, want 1", n)
		}
	})

	f.run(t, "TickRefusesInvalidJob", func(t *testing.T, x *fixture) {
		x.upsert(schedule("s", at(time.Minute)))
		noAttempts, window := job("q", "tick"), keyed("q", "tick", "k")
		noAttempts.MaxAttempts = 0
		window.UniqueFor = time.Hour
		for _, bad := range []*storage.JobInsertParams{noAttempts, window} {
			_, err := x.s.ScheduleTick(x.ctx, &storage.ScheduleTickParams{Name: "s", From: at(time.Minute), To: at(2 * time.Minute), Job: bad, Now: base})
			if !errors.Is(err, storage.ErrInvalid) {
				t.Fatalf("ScheduleTick with an invalid job: %v, want ErrInvalid", err)
			}
		}
		checkTime(t, "NextAt after a refused tick", x.nextAt("s"), at(time.Minute))
		if n := x.count(); n != 0 {
			t.Errorf("refused ticks inserted %d jobs", n)
		}
	})

	f.run(t, "Delete", func(t *testing.T, x *fixture) {
		x.upsert(schedule("s", at(time.Minute)))
		if err := x.s.ScheduleDelete(x.ctx, &storage.ScheduleDeleteParams{Name: "s"}); err != nil {
			t.Fatalf("ScheduleDelete: %v", err)
		}
		if err := x.s.ScheduleDelete(x.ctx, &storage.ScheduleDeleteParams{Name: "s"}); !errors.Is(err, storage.ErrScheduleNotFound) {
			t.Errorf("second ScheduleDelete: %v, want ErrScheduleNotFound", err)
		}
		if res := x.tick("s", at(time.Minute), at(2*time.Minute), job("q", "tick")); res.Advanced {
			t.Errorf("tick of a deleted schedule: %+v, want not Advanced", res)
		}
		if n := x.count(); n != 0 {
			t.Errorf("a deleted schedule's tick inserted %d jobs", n)
		}
	})

	// Two stores over the same jobs race for each tick: one wins it.
	t.Run("TickRace", func(t *testing.T) {
		t.Parallel()
		if b.Open == nil {
			t.Skip("the backend's stores cannot share their jobs")
		}
		s := b.New(t)
		stores := []storage.Storage{s, b.Open(t, s)}
		x := &fixture{t: t, s: s, ctx: t.Context()}
		x.upsert(schedule("s", at(time.Minute)))
		const ticks = 20
		for i := range ticks {
			from, to := at(time.Duration(i+1)*time.Minute), at(time.Duration(i+2)*time.Minute)
			var wg sync.WaitGroup
			won := make([]bool, len(stores))
			for k, st := range stores {
				wg.Go(func() {
					res, err := st.ScheduleTick(t.Context(), &storage.ScheduleTickParams{Name: "s", From: from, To: to, Job: job("q", "tick"), Now: from})
					if err != nil {
						t.Errorf("store %d, tick %d: %v", k, i, err)
						return
					}
					won[k] = res.Advanced
				})
			}
			wg.Wait()
			if won[0] == won[1] {
				t.Fatalf("tick %d: stores advanced %v, want exactly one", i, won)
			}
		}
		if n := x.count(); n != ticks {
			t.Errorf("%d jobs after %d raced ticks, want %d", n, ticks, ticks)
		}
	})
}

// checkSchedule compares a schedule with the one expected.
func checkSchedule(t *testing.T, what string, got, want *storage.Schedule) {
	t.Helper()
	g, w := got, want
	checkTime(t, what+": NextAt", g.NextAt, w.NextAt)
	checkTime(t, what+": CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(t, what+": UpdatedAt", g.UpdatedAt, w.UpdatedAt)
	if d := cmp.Diff(w, g, jobDiff, cmpopts.IgnoreFields(storage.Schedule{}, "NextAt", "CreatedAt", "UpdatedAt")); d != "" {
		t.Errorf("%s: schedule %s mismatch (-want +got):\n%s", what, w.Name, d)
	}
}

func scheduleNames(scs []*storage.Schedule) []string {
	var names []string
	for _, sc := range scs {
		names = append(names, sc.Name)
	}
	return names
}
