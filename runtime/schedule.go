package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Spec says when a schedule ticks: Every(d) or Cron(expr). The zero Spec
// is invalid.
type Spec struct{ text string }

// everyPrefix starts the stored text of an Every spec.
const everyPrefix = "@every "

// Every ticks every d, the first time d after the schedule is first stored.
// d must be at least a millisecond.
func Every(d time.Duration) Spec { return Spec{everyPrefix + d.String()} }

// Cron ticks at the times a cron expression names: five fields (minute,
// hour, day of month, month, day of week, as in crontab(5)) or a
// descriptor such as "@daily" or "@hourly", read in the schedule's time
// zone (ScheduleOpts.TimeZone). It is parsed by github.com/robfig/cron/v3.
func Cron(expr string) Spec { return Spec{expr} }

// Validate reports whether the spec is valid when read in timeZone (an
// IANA name; "" is UTC), as RegisterSchedule and AddSchedule check it. An
// unknown zone is an error matching ErrUnknownTimeZone. The generator
// checks a marker's schedule with it.
func (s Spec) Validate(timeZone string) error {
	_, err := parseTiming(s.text, timeZone)
	return err
}

// ErrUnknownTimeZone: a schedule's time zone is not in the time zone
// database.
var ErrUnknownTimeZone = errors.New("unknown time zone")

// String returns the spec as it is stored: "@every 15m0s" or the cron
// expression.
func (s Spec) String() string { return s.text }

// Overlap says what a tick does while the job of the schedule's previous
// tick is still pending or running.
type Overlap string

// The overlap policies.
const (
	// OverlapSkip, the default, inserts nothing for such a tick: a
	// scheduled job carries the unique key "schedule:<name>", which its
	// active job holds (see Kind.Submit's unique keys).
	OverlapSkip Overlap = "skip"
	// OverlapQueue inserts the tick's job anyway, without a unique key, so
	// jobs of the schedule may wait behind one another.
	OverlapQueue Overlap = "queue"
)

// Missed says what happens to ticks that came due while no server ran.
// However many there were, at most one job is inserted for them.
type Missed string

// The policies for missed ticks.
const (
	// CatchUp, the default, inserts one job for the missed ticks when a
	// server comes back.
	CatchUp Missed = "catch_up"
	// SkipMissed inserts none: a tick found later than its grace (a
	// minute, or the time to the following tick when that is shorter) is
	// skipped.
	SkipMissed Missed = "skip"
)

// ScheduleOpts are a schedule's options; nil means every default.
type ScheduleOpts struct {
	// TimeZone is the IANA name of the zone a Cron spec is read in, such
	// as "Europe/Paris". Defaults to UTC; an Every spec takes none.
	TimeZone string
	// Queue is the queue of the schedule's jobs. Defaults to the kind's.
	Queue string
	// Overlap defaults to OverlapSkip.
	Overlap Overlap
	// Missed defaults to CatchUp.
	Missed Missed
}

// scheduleKey is the unique key of the jobs of schedule name under
// OverlapSkip.
func scheduleKey(name string) string { return "schedule:" + name }

// timing is a parsed schedule: it computes tick times.
type timing struct {
	every time.Duration // an Every spec; zero for cron
	cron  cron.Schedule
	loc   *time.Location
}

// cronParser reads the five standard fields and the descriptors. Time
// zones come from ScheduleOpts.TimeZone only, not from the expression.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseTiming parses a stored spec and time zone.
func parseTiming(spec, tz string) (*timing, error) {
	if text, ok := strings.CutPrefix(spec, everyPrefix); ok {
		d, err := time.ParseDuration(text)
		switch {
		case err != nil:
			return nil, fmt.Errorf("every: %w", err)
		case d < time.Millisecond:
			return nil, fmt.Errorf("every %v: want at least 1ms", d)
		case tz != "":
			return nil, fmt.Errorf("time zone %q: an Every spec takes none", tz)
		}
		return &timing{every: d}, nil
	}
	if strings.HasPrefix(spec, "@every") || strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("cron %q: write Every(d) for intervals and ScheduleOpts.TimeZone for the zone", spec)
	}
	if spec == "" {
		return nil, errors.New("empty spec: want Every(d) or Cron(expr)")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, ErrUnknownTimeZone)
	}
	sc, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w", spec, err)
	}
	if sc.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("cron %q: never ticks", spec)
	}
	return &timing{cron: sc, loc: loc}, nil
}

// first returns the first tick of a schedule stored at now.
func (t *timing) first(now time.Time) time.Time {
	if t.every > 0 {
		return now.Add(t.every).Truncate(time.Microsecond)
	}
	return t.cron.Next(now.In(t.loc)).UTC()
}

// after returns the first tick after now of a schedule whose tick at
// from is due: every's ticks keep their phase, whatever was missed.
func (t *timing) after(from, now time.Time) time.Time {
	if t.every > 0 {
		return from.Add((now.Sub(from)/t.every + 1) * t.every)
	}
	return t.cron.Next(now.In(t.loc)).UTC()
}

// missed reports whether the tick at from, found at now, is past its
// grace (see SkipMissed).
func (t *timing) missed(from, now time.Time) bool {
	grace := time.Minute
	if t.every > 0 {
		grace = min(grace, t.every)
	} else if next := t.cron.Next(from.In(t.loc)); !next.IsZero() {
		grace = min(grace, next.Sub(from))
	}
	return now.Sub(from) > grace
}

// scheduleParams checks a schedule and returns its upsert params.
func scheduleParams(k *KindOpts, name string, spec Spec, input []byte, maxPayload int, opts *ScheduleOpts, now time.Time) (*storage.ScheduleUpsertParams, error) {
	var o ScheduleOpts
	if opts != nil {
		o = *opts
	}
	o.Overlap = cmp.Or(o.Overlap, OverlapSkip)
	o.Missed = cmp.Or(o.Missed, CatchUp)
	switch {
	case !storage.ValidName(name):
		return nil, fmt.Errorf("%w: schedule name %q: want %s", ErrInvalidOption, name, storage.NameRule)
	case o.Queue != "" && !storage.ValidName(o.Queue):
		return nil, fmt.Errorf("%w: queue %q: want %s", ErrInvalidOption, o.Queue, storage.NameRule)
	case o.Overlap != OverlapSkip && o.Overlap != OverlapQueue:
		return nil, fmt.Errorf("%w: overlap %q: want %q or %q", ErrInvalidOption, o.Overlap, OverlapSkip, OverlapQueue)
	case o.Missed != CatchUp && o.Missed != SkipMissed:
		return nil, fmt.Errorf("%w: missed %q: want %q or %q", ErrInvalidOption, o.Missed, CatchUp, SkipMissed)
	case len(input) > maxPayload:
		return nil, fmt.Errorf("%w: encoded input is %d bytes, limit %d", ErrPayloadTooLarge, len(input), maxPayload)
	}
	t, err := parseTiming(spec.text, o.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidOption, err)
	}
	return &storage.ScheduleUpsertParams{
		Name: name, Kind: k.Name, Queue: cmp.Or(o.Queue, k.Queue), Input: input,
		Priority: k.Priority, MaxAttempts: k.MaxAttempts, Timeout: k.Timeout,
		Spec: spec.text, TimeZone: o.TimeZone, Overlap: string(o.Overlap), Missed: string(o.Missed),
		NextAt: t.first(now), Now: now,
	}, nil
}

// RegisterSchedule makes srv store schedule name as it starts: from then
// on, at every tick of spec, one server of those sharing the storage
// inserts a job of this kind with arguments in. A schedule of that name
// already stored is replaced, keeping its next tick when spec and time
// zone are unchanged. It fails when the schedule is invalid, the name is
// already registered on srv or srv has started (use AddSchedule then).
func (k *Kind[In, Out]) RegisterSchedule(srv *Server, name string, spec Spec, in In, opts *ScheduleOpts) error {
	p, err := k.scheduleParams(srv.client, name, spec, in, opts)
	if err != nil {
		return err
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.started || srv.closing.Load() {
		return fmt.Errorf("register schedule %s: server already started", name)
	}
	if slices.ContainsFunc(srv.scheduled, func(q *storage.ScheduleUpsertParams) bool { return q.Name == name }) {
		return fmt.Errorf("register schedule %s: already registered", name)
	}
	srv.scheduled = append(srv.scheduled, p)
	return nil
}

// AddSchedule stores schedule name through c now, as RegisterSchedule
// does at a server's start: from a running server's client, whose server
// ticks it from then on, or from a detached one; other servers see it at
// their next read of the schedules, within a minute or their poll
// interval when that is longer (a tick they find late then still inserts
// its job, see CatchUp). It returns the stored schedule.
func (k *Kind[In, Out]) AddSchedule(ctx context.Context, c *Client, name string, spec Spec, in In, opts *ScheduleOpts) (*storage.Schedule, error) {
	p, err := k.scheduleParams(c, name, spec, in, opts)
	if err != nil {
		return nil, err
	}
	sc, err := c.store.ScheduleUpsert(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("add schedule %s: %w", name, err)
	}
	if c.srv != nil {
		c.srv.wakeSchedules()
	}
	return sc, nil
}

func (k *Kind[In, Out]) scheduleParams(c *Client, name string, spec Spec, in In, opts *ScheduleOpts) (*storage.ScheduleUpsertParams, error) {
	input, err := encodeInput(k.codec, in)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: encode input: %w", name, err)
	}
	p, err := scheduleParams(&k.opts, name, spec, input, c.maxPayload, opts, c.clk.now())
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", name, err)
	}
	return p, nil
}

// RemoveSchedule deletes schedule name: no tick inserts a job for it any
// more, in any process. Jobs its ticks inserted are left alone. It returns
// an error matching ErrScheduleNotFound for an unknown name. A server that
// registers the schedule (RegisterSchedule, or the generated Register for
// a marker's schedule) stores it again when it starts.
func (c *Client) RemoveSchedule(ctx context.Context, name string) error {
	if err := c.store.ScheduleDelete(ctx, &storage.ScheduleDeleteParams{Name: name}); err != nil {
		return fmt.Errorf("remove schedule %s: %w", name, err)
	}
	return nil
}

// ListSchedules returns every stored schedule in name order, each with
// its next tick (NextAt) and the job its latest tick inserted.
func (c *Client) ListSchedules(ctx context.Context) ([]*storage.Schedule, error) {
	scs, err := c.store.ScheduleList(ctx, &storage.ScheduleListParams{})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	return scs, nil
}

// ErrScheduleNotFound: no schedule has that name.
var ErrScheduleNotFound = storage.ErrScheduleNotFound

// scheduleRefresh is the shortest time between two reads of the schedules
// when none is due sooner: how long a server may take to see a schedule
// that another process added. A server reads them at once when its own
// client adds one, and a removal takes effect at once everywhere (the
// removed schedule's tick finds no row to advance).
const scheduleRefresh = time.Minute

// wakeSchedules makes the scheduler read the schedules again at once.
func (s *Server) wakeSchedules() {
	select {
	case s.schedWake <- struct{}{}:
	default:
	}
}

// scheduleLoop ticks the stored schedules until Stop begins. Each round it
// stores the schedules registered on s that are not stored yet, reads
// every schedule and ticks the due ones, then sleeps until the earliest
// next tick or for the poll interval or scheduleRefresh, whichever of
// these two is longer, on the server's clock (its timer is armed only
// while it sleeps), so an idle server reads the schedules about once a
// minute. Every server runs it:
// each tick is a compare and set in storage (ScheduleTick), so however
// many servers find a tick due, one inserts its job.
func (s *Server) scheduleLoop() {
	defer s.maint.Done()
	timer := s.clk.clock.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	pending := s.scheduled
	for {
		pending = s.storeSchedules(pending)
		delay := s.tickSchedules(max(s.cfg.PollInterval, scheduleRefresh))
		if len(pending) > 0 {
			delay = min(delay, s.cfg.PollInterval) // try the failed ones again
		}
		timer.Reset(delay)
		select {
		case <-s.stopCh:
			return
		case <-s.schedWake:
			timer.Stop()
		case <-timer.C():
		}
	}
}

// storeSchedules upserts the registered schedules and returns those that
// failed, to try again.
func (s *Server) storeSchedules(pending []*storage.ScheduleUpsertParams) []*storage.ScheduleUpsertParams {
	var failed []*storage.ScheduleUpsertParams
	for _, p := range pending {
		ctx, cancel := s.callCtx(s.serving)
		q := *p
		q.Now = s.clk.storeNow()
		_, err := s.store.ScheduleUpsert(ctx, &q)
		cancel()
		if err != nil {
			if errors.Is(err, storage.ErrInvalid) {
				s.logger.Error("jobgen: schedule refused by storage", "schedule", p.Name, "err", err)
				continue
			}
			s.logger.Warn("jobgen: storing schedule failed; trying again", "schedule", p.Name, "err", err)
			failed = append(failed, p)
		}
	}
	return failed
}

// tickSchedules ticks every due schedule and returns how long until the
// next tick, at most refresh.
func (s *Server) tickSchedules(refresh time.Duration) time.Duration {
	ctx, cancel := s.callCtx(s.serving)
	defer cancel()
	scs, err := s.store.ScheduleList(ctx, &storage.ScheduleListParams{})
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Warn("jobgen: reading schedules failed", "err", err)
		}
		return s.cfg.PollInterval
	}
	now := s.clk.now()
	next := now.Add(refresh)
	for _, sc := range scs {
		to := sc.NextAt
		if !sc.NextAt.After(now) {
			to = s.tick(ctx, sc, now)
		}
		if to.Before(next) {
			next = to
		}
	}
	return max(next.Sub(now), 0)
}

// tick advances schedule sc, due at now, to its next tick and returns it;
// it inserts the tick's job unless the tick is a missed one that sc skips.
// Another server may have ticked it first: then this call changes nothing.
func (s *Server) tick(ctx context.Context, sc *storage.Schedule, now time.Time) time.Time {
	t, err := parseTiming(sc.Spec, sc.TimeZone)
	if err != nil {
		s.logger.Error("jobgen: schedule has an invalid spec; not ticking it", "schedule", sc.Name, "err", err)
		return now.Add(s.cfg.PollInterval)
	}
	to := t.after(sc.NextAt, now)
	p := &storage.ScheduleTickParams{Name: sc.Name, From: sc.NextAt, To: to, Now: s.clk.storeNow()}
	if sc.Missed != string(SkipMissed) || !t.missed(sc.NextAt, now) {
		p.Job = &storage.JobInsertParams{
			Kind: sc.Kind, Queue: sc.Queue, Input: sc.Input, Priority: sc.Priority,
			MaxAttempts: sc.MaxAttempts, Timeout: sc.Timeout, Now: p.Now,
		}
		if sc.Overlap != string(OverlapQueue) {
			p.Job.UniqueKey = scheduleKey(sc.Name)
		}
	}
	res, err := s.store.ScheduleTick(ctx, p)
	switch {
	case err != nil:
		s.logger.Warn("jobgen: schedule tick failed", "schedule", sc.Name, "err", err)
		return now.Add(s.cfg.PollInterval)
	case !res.Advanced:
		return now // another server ticked it: read its next tick again
	case res.Job != nil && !res.Job.Duplicate:
		s.logger.Debug("jobgen: schedule ticked", "schedule", sc.Name, "job", res.Job.Job.ID, "next", to)
		s.wakeQueue(sc.Queue)
	}
	return to
}
