package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// horizonOptions are the settings of the pg-horizon row: a steady stream of
// single submits while another session pins the cluster's xmin horizon, so
// vacuum cannot remove the dead row versions the queue leaves behind.
type horizonOptions struct {
	reps    int           // repetitions of the row
	rate    int           // jobs submitted per second
	workers int           // workers of each system
	work    time.Duration // time each handler sleeps
	// clean, hold and recover are the lengths of the three phases: before,
	// while and after the horizon is pinned.
	clean, hold, recover time.Duration
	holder               string // holderXID or holderRR
	readers              int    // sessions of a holderRR holder
	// vacuum is how often the bench vacuums the jobs table itself when the
	// server's autovacuum is off (0: never).
	vacuum time.Duration
	// retention is how long both systems keep completed jobs (0: their
	// defaults, a day, which keeps every job of the run).
	retention time.Duration
}

// The kinds of horizon holder.
const (
	// holderXID is one session idle in a transaction that has an xid
	// (BEGIN; SELECT txid_current();).
	holderXID = "xid"
	// holderRR is readers sessions, each holding a REPEATABLE READ snapshot
	// taken by a count of the jobs table.
	holderRR = "rr"
)

// horizonFlags registers the flags of the pg-horizon row.
func horizonFlags(h *horizonOptions) {
	flag.IntVar(&h.reps, "horizon-reps", 1, "pg-horizon: repetitions of the row (it ignores -reps)")
	flag.IntVar(&h.rate, "horizon-rate", 200, "pg-horizon: jobs submitted per second (one producer, one submit per tick)")
	flag.IntVar(&h.workers, "horizon-workers", 16, "pg-horizon: workers of each system")
	flag.DurationVar(&h.work, "horizon-work", time.Millisecond, "pg-horizon: work per job (a sleep in the handler)")
	flag.DurationVar(&h.clean, "horizon-clean", time.Minute, "pg-horizon: length of the clean phase")
	flag.DurationVar(&h.hold, "horizon-hold", 3*time.Minute, "pg-horizon: length of the phase with the horizon pinned")
	flag.DurationVar(&h.recover, "horizon-recover", time.Minute, "pg-horizon: length of the phase after the holder ends")
	flag.StringVar(&h.holder, "horizon-holder", holderXID, "pg-horizon: what pins the horizon: "+holderXID+
		" (a session idle in a transaction with an xid) or "+holderRR+" (REPEATABLE READ readers holding a snapshot)")
	flag.IntVar(&h.readers, "horizon-readers", 4, "pg-horizon: REPEATABLE READ readers of -horizon-holder "+holderRR)
	flag.DurationVar(&h.vacuum, "horizon-vacuum", 20*time.Second, "pg-horizon: when the server's autovacuum is off, VACUUM the jobs table this often (0: never)")
	flag.DurationVar(&h.retention, "horizon-retention", 0, "pg-horizon: how long both systems keep completed jobs, so their retention deletes during the run (0: their defaults, a day)")
}

// smoke shortens the phases for -smoke.
func (h *horizonOptions) smoke() {
	h.clean, h.hold, h.recover = 3*time.Second, 4*time.Second, 3*time.Second
}

func (h *horizonOptions) validate() error {
	if h.reps < 1 || h.rate < 1 || h.workers < 1 || h.work < 0 || h.clean <= 0 || h.hold <= 0 || h.recover <= 0 || h.vacuum < 0 {
		return errors.New("-horizon-reps, -horizon-rate and -horizon-workers must be at least 1, the phases positive, -horizon-work, -horizon-vacuum and -horizon-retention not negative")
	}
	if h.holder != holderXID && h.holder != holderRR {
		return fmt.Errorf("-horizon-holder %q: want %s or %s", h.holder, holderXID, holderRR)
	}
	if h.holder == holderRR && h.readers < 1 {
		return errors.New("-horizon-readers must be at least 1")
	}
	return nil
}

// jobs is the number of jobs the producer submits over the three phases.
func (h *horizonOptions) jobs() int {
	return max(int(float64(h.rate)*(h.clean+h.hold+h.recover).Seconds()), 1)
}

// horizonPhases names the phases in order; the holder is open in the second.
var horizonPhases = []string{"clean", "held", "recovery"}

// horizonPhaseMetrics are what is reported for each phase, under the
// phase's name.
var horizonPhaseMetrics = []metric{
	{name: "start p50", unit: "ms"}, {name: "start p95", unit: "ms"}, {name: "start p99", unit: "ms"},
	{name: "done", unit: "jobs/s", higherBetter: true},
	{name: "done last min", unit: "jobs/s", higherBetter: true},
	{name: "submitted", unit: "jobs/s", higherBetter: true},
	{name: "depth max", unit: "jobs"},
	{name: "dead tuples", unit: "tuples"},
	{name: "table size", unit: "MB"},
	{name: "index size", unit: "MB"},
	{name: "recovered", unit: "s"},
	{name: "claims", unit: "scans/s"},
	{name: "claim entries", unit: "entries/scan"},
	{name: "buffers", unit: "buffers/job"},
}

// horizonMetrics are the row's metrics: every phase metric of every phase.
func horizonMetrics() []metric {
	var ms []metric
	for _, p := range horizonPhases {
		for _, m := range horizonPhaseMetrics {
			m.name = p + " " + m.name
			ms = append(ms, m)
		}
	}
	return ms
}

// horizonRow is the pg-horizon row: jobgen and River (with its benchmark's
// fetch settings) in turn.
func horizonRow(o *options) *row {
	title := "PostgreSQL horizon held (xid)"
	if o.horizon.holder == holderRR {
		title = fmt.Sprintf("PostgreSQL horizon held (%d RR)", o.horizon.readers)
	}
	return &row{
		name: "pg-horizon", title: title, pg: true, optIn: true, brief: true, reps: o.horizon.reps, metrics: horizonMetrics(),
		contenders: []contender{
			{name: "jobgen", run: jobgenHorizon},
			{name: "river " + riverBenchFetch.name, run: riverHorizon(riverBenchFetch)},
		},
	}
}

// horizonEnv is e with the row's worker count.
func horizonEnv(e *env) *env {
	o := *e.opts
	o.workers, o.retention = o.horizon.workers, o.horizon.retention
	return &env{opts: &o, pg: e.pg, profile: e.profile}
}

// horizonTarget is one system's side of a pg-horizon run.
type horizonTarget struct {
	system string // as printed
	schema string
	table  string
	// claimIndex is the index the system's claim scans for ready jobs.
	claimIndex string
	submit     func(ctx context.Context, n int) error
}

// jobgenHorizon runs the scenario against jobgen's PostgreSQL store,
// submitting through the server's own client.
func jobgenHorizon(ctx context.Context, e *env, rep int) (result, error) {
	e = horizonEnv(e)
	h := newHorizonRun(e.opts)
	r, err := newJobgenRun(ctx, e, jobgenPostgres, rep, h.n, h.started, false)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.srv.Start(ctx); err != nil {
		return nil, err
	}
	client := r.srv.Client()
	res, err := h.run(ctx, e, r.tr, &horizonTarget{
		system: "jobgen", schema: schemaName("jobgen", rep), table: "jobgen_jobs", claimIndex: "jobgen_jobs_pending",
		submit: func(ctx context.Context, n int) error {
			_, err := jobgenKind.Submit(ctx, client, benchArgs{N: n}, nil)
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	return res, r.verify(ctx)
}

// riverHorizon runs the scenario against River, submitting with
// Client.Insert.
func riverHorizon(fetch riverFetch) func(context.Context, *env, int) (result, error) {
	return func(ctx context.Context, e *env, rep int) (result, error) {
		e = horizonEnv(e)
		h := newHorizonRun(e.opts)
		rs, err := riverPostgres(ctx, e, fetch.name, rep)
		if err != nil {
			return nil, err
		}
		defer rs.cleanup()
		tr := newTracker(h.n)
		rr, err := newRiverRun(e, rs, fetch, tr, h.started, false)
		if err != nil {
			return nil, err
		}
		if err := rr.client.Start(ctx); err != nil {
			return nil, err
		}
		res, runErr := h.run(ctx, e, tr, &horizonTarget{
			system: "river " + fetch.name, schema: rs.schema, table: "river_job", claimIndex: "river_job_prioritized_fetching_index",
			submit: func(ctx context.Context, n int) error {
				_, err := rr.client.Insert(ctx, riverArgs{N: n}, nil)
				return err
			},
		})
		if err := rr.finish(ctx, rs, h.n); err != nil && runErr == nil {
			runErr = err
		}
		if runErr != nil {
			return nil, runErr
		}
		return res, nil
	}
}

// horizonRun is the state of one system's pg-horizon run that its handlers
// and its producer share.
type horizonRun struct {
	o     *horizonOptions
	n     int
	base  time.Time
	phase atomic.Int32 // index into horizonPhases of the phase running now
	// submitAt is when the submit of each job was called, as an offset
	// from base (0: not yet submitted).
	submitAt  []atomic.Int64
	submitted atomic.Int64 // submits called
	started   func(n int)
	nStarted  atomic.Int64
	pickup    []histogram // per phase: submit call → handler start
	// recovering holds the pickups of each second of the recovery phase,
	// which began recoveryAt (an offset from base; 0 before).
	recovering []histogram
	recoveryAt atomic.Int64
}

// recoveryFactor is how far above the clean phase's p99 a window's p99 may
// be for the system to count as recovered (the held phase's target), and
// recoveryWindow the length of those windows: long enough that one slow
// second (a vacuum, another process) does not count as not recovered.
const (
	recoveryFactor = 3
	recoveryWindow = 10 // seconds
)

// recovered returns how long after the holder ended the pickup p99 of
// every recoveryWindow of the recovery phase from then on (whole seconds,
// windows starting each second) stayed within recoveryFactor times the
// clean phase's: 0 when it did from the start.
func (h *horizonRun) recovered() float64 {
	limit := recoveryFactor * h.pickup[0].quantile(99)
	last := -1 // the start of the last window above the limit
	for i := 0; i+recoveryWindow <= len(h.recovering); i++ {
		var w histogram
		for j := i; j < i+recoveryWindow; j++ {
			w.merge(&h.recovering[j])
		}
		if q := w.quantile(99); !math.IsNaN(q) && q > limit {
			last = i
		}
	}
	return float64(last + 1)
}

func newHorizonRun(o *options) *horizonRun {
	h := &horizonRun{o: &o.horizon, n: o.horizon.jobs(), base: time.Now()}
	h.submitAt = make([]atomic.Int64, h.n)
	h.pickup = make([]histogram, len(horizonPhases))
	h.recovering = make([]histogram, int(o.horizon.recover/time.Second)+1)
	h.started = func(n int) {
		if n >= 0 && n < h.n {
			if at := h.submitAt[n].Load(); at > 0 {
				now := time.Since(h.base)
				d := now - time.Duration(at)
				phase := h.phase.Load()
				h.pickup[phase].record(d)
				if r := h.recoveryAt.Load(); phase == 2 && r > 0 {
					h.recovering[min(int((now-time.Duration(r))/time.Second), len(h.recovering)-1)].record(d)
				}
			}
		}
		h.nStarted.Add(1)
		time.Sleep(h.o.work)
	}
	return h
}

// horizonSample is a completion count at an offset into a phase.
type horizonSample struct {
	at        time.Duration
	completed int64
}

// run drives the three phases while the producer submits at the fixed
// rate, prints each phase's figures as it ends, waits for every job to
// complete, and returns the figures.
func (h *horizonRun) run(ctx context.Context, e *env, tr *tracker, t *horizonTarget) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	autovacuum, err := e.pg.setting(ctx, "autovacuum")
	if err != nil {
		return nil, err
	}
	vacuum := "on"
	var bg sync.WaitGroup
	if autovacuum != "on" {
		vacuum = "off, the bench does not vacuum"
		if h.o.vacuum > 0 {
			vacuum = fmt.Sprintf("off, the bench vacuums every %s", h.o.vacuum)
			bg.Go(func() { h.vacuumLoop(ctx, e, t) })
		}
	}
	holder := "an idle transaction with an xid"
	if h.o.holder == holderRR {
		holder = fmt.Sprintf("%d REPEATABLE READ readers", h.o.readers)
	}
	fmt.Printf("%-22s %-18s %d jobs/s, %d workers, %s of work per job; phases %s / %s / %s; holder: %s; autovacuum %s\n",
		"pg-horizon", t.system, h.o.rate, h.o.workers, h.o.work, h.o.clean, h.o.hold, h.o.recover, holder, vacuum)

	var (
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		cancel()
	}
	start := time.Now()
	bg.Go(func() {
		if err := h.produce(ctx, start, t.submit); err != nil {
			fail(err)
		}
	})

	res := result{}
	lengths := []time.Duration{h.o.clean, h.o.hold, h.o.recover}
	end := start
	for i, name := range horizonPhases {
		end = end.Add(lengths[i])
		if i == 2 {
			h.recoveryAt.Store(int64(time.Since(h.base)))
		}
		h.phase.Store(int32(i))
		var hold *horizonHolder
		if i == 1 {
			if hold, err = openHolder(ctx, e.opts.dsn, h.o, t); err != nil {
				fail(err)
				break
			}
		}
		pr, err := h.phaseRun(ctx, e, tr, t, end)
		if hold != nil {
			hold.release()
		}
		if err != nil {
			fail(err)
			break
		}
		for k, v := range pr {
			res[name+" "+k] = v
		}
		fmt.Printf("%-22s %-18s %-8s %s\n", "pg-horizon", t.system, name, pr.line())
	}
	if firstErr == nil {
		if err := tr.wait(ctx, e.opts.timeout); err != nil {
			fail(err)
		}
	}
	cancel()
	bg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return res, nil
}

// phaseRun samples one phase until end: queue depth (submitted, not yet
// started) ten times a second and completions, and the table's statistics
// at both ends.
func (h *horizonRun) phaseRun(ctx context.Context, e *env, tr *tracker, t *horizonTarget, end time.Time) (phaseResult, error) {
	begin := time.Now()
	s0, err := e.pg.tableStats(ctx, t.schema, t.table, t.claimIndex)
	if err != nil {
		return nil, err
	}
	samples := []horizonSample{{0, tr.completed.Load()}}
	sub0 := h.submitted.Load()
	var depth int64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	timer := time.NewTimer(time.Until(end))
	defer timer.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
			depth = max(depth, h.submitted.Load()-h.nStarted.Load())
			samples = append(samples, horizonSample{time.Since(begin), tr.completed.Load()})
		case <-timer.C:
			break loop
		}
	}
	elapsed := time.Since(begin)
	last := horizonSample{elapsed, tr.completed.Load()}
	sub1 := h.submitted.Load()
	s1, err := e.pg.tableStats(ctx, t.schema, t.table, t.claimIndex)
	if err != nil {
		return nil, err
	}
	// The completion count a minute before the phase's end (or at its
	// start, if it is shorter).
	minuteAgo := samples[0]
	for _, s := range samples {
		if s.at <= elapsed-time.Minute {
			minuteAgo = s
		}
	}
	ph := &h.pickup[h.phase.Load()]
	done := last.completed - samples[0].completed
	r := phaseResult{
		"start p50": ph.quantile(50), "start p95": ph.quantile(95), "start p99": ph.quantile(99),
		"done":          float64(done) / elapsed.Seconds(),
		"done last min": float64(last.completed-minuteAgo.completed) / (last.at - minuteAgo.at).Seconds(),
		"submitted":     float64(sub1-sub0) / elapsed.Seconds(),
		"depth max":     float64(depth),
		"dead tuples":   float64(s1.deadTuples),
		"table size":    float64(s1.tableSize) / (1 << 20),
		"index size":    float64(s1.indexSize) / (1 << 20),
		"claims":        float64(s1.claimScans-s0.claimScans) / elapsed.Seconds(),
	}
	if scans := s1.claimScans - s0.claimScans; scans > 0 {
		r["claim entries"] = float64(s1.claimEntries-s0.claimEntries) / float64(scans)
	}
	if done > 0 {
		r["buffers"] = float64(s1.buffers-s0.buffers) / float64(done)
	}
	if h.phase.Load() == 2 {
		r["recovered"] = h.recovered()
	}
	return r, nil
}

// phaseResult is one phase's figures, by phase metric name.
type phaseResult result

// line formats a phase's figures on one line.
func (r phaseResult) line() string {
	num := func(k string) string {
		v, ok := r[k]
		if !ok || math.IsNaN(v) {
			return "n/a"
		}
		return strings.TrimSuffix(formatValue(v, ""), " ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "start p50/p95/p99 %s/%s/%s ms", num("start p50"), num("start p95"), num("start p99"))
	fmt.Fprintf(&b, ", done %s/s (last min %s/s), submitted %s/s", num("done"), num("done last min"), num("submitted"))
	fmt.Fprintf(&b, ", depth max %s, dead tuples %s, table/indexes %s/%s MB", num("depth max"), num("dead tuples"),
		num("table size"), num("index size"))
	if _, ok := r["recovered"]; ok {
		fmt.Fprintf(&b, ", recovered after %s s", num("recovered"))
	}
	fmt.Fprintf(&b, ", claims %s/s, %s entries/scan, %s buffers/job", num("claims"), num("claim entries"), num("buffers"))
	return b.String()
}

// maxInFlight bounds the producer's submits in flight, so a stalled
// system cannot make it start goroutines without end; a producer held up
// by it falls behind the offered rate, which its phase's submitted rate
// shows.
const maxInFlight = 1024

// produce submits jobs 0..n-1, job i at start + i/rate, each from a
// goroutine of its own so that a slow submit does not delay the next one.
func (h *horizonRun) produce(ctx context.Context, start time.Time, submit func(context.Context, int) error) error {
	interval := time.Second / time.Duration(h.o.rate)
	sem := make(chan struct{}, maxInFlight)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := range h.n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return nil
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		h.submitAt[i].Store(max(int64(time.Since(h.base)), 1))
		h.submitted.Add(1)
		wg.Go(func() {
			defer func() { <-sem }()
			if err := submit(ctx, i); err != nil && ctx.Err() == nil {
				errOnce.Do(func() { firstErr = fmt.Errorf("submit: %w", err) })
			}
		})
	}
	wg.Wait()
	return firstErr
}

// vacuumLoop vacuums the target's jobs table every h.o.vacuum until ctx
// ends, standing in for the server's autovacuum when it is off.
func (h *horizonRun) vacuumLoop(ctx context.Context, e *env, t *horizonTarget) {
	tick := time.NewTicker(h.o.vacuum)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_, _ = e.pg.pool.Exec(ctx, "VACUUM "+pgx.Identifier{t.schema, t.table}.Sanitize())
		}
	}
}

// horizonHolder is what pins the xmin horizon during the second phase:
// sessions of their own, each in an open transaction.
type horizonHolder struct {
	conns []*pgx.Conn
}

// openHolder opens the sessions of the holder kind o.holder.
func openHolder(ctx context.Context, dsn string, o *horizonOptions, t *horizonTarget) (*horizonHolder, error) {
	h := &horizonHolder{}
	sessions, stmt := 1, "SELECT txid_current()"
	begin := "BEGIN"
	if o.holder == holderRR {
		sessions = o.readers
		begin = "BEGIN ISOLATION LEVEL REPEATABLE READ"
		stmt = "SELECT count(*) FROM " + pgx.Identifier{t.schema, t.table}.Sanitize()
	}
	for range sessions {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			h.release()
			return nil, fmt.Errorf("holder: %w", err)
		}
		h.conns = append(h.conns, conn)
		var v int64
		if _, err := conn.Exec(ctx, begin); err != nil {
			h.release()
			return nil, fmt.Errorf("holder: %w", err)
		}
		if err := conn.QueryRow(ctx, stmt).Scan(&v); err != nil {
			h.release()
			return nil, fmt.Errorf("holder: %w", err)
		}
	}
	return h, nil
}

// release ends the holder's transactions and closes its sessions.
func (h *horizonHolder) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range h.conns {
		_, _ = c.Exec(ctx, "ROLLBACK")
		_ = c.Close(ctx)
	}
	h.conns = nil
}

// horizonStats are the cumulative statistics of a jobs table that a phase
// reports the change of.
type horizonStats struct {
	deadTuples int64
	tableSize  int64 // bytes, with TOAST
	indexSize  int64 // bytes, every index
	// buffers counts the table's and its indexes' buffer accesses (hits
	// and reads).
	buffers int64
	// claimScans and claimEntries are the scans of the claim's index and
	// the entries they returned.
	claimScans, claimEntries int64
}

// tableStats reads schema.table's statistics. The server's cumulative
// statistics lag the sessions that update them by up to a second or so.
func (p *pgAdmin) tableStats(ctx context.Context, schema, table, index string) (horizonStats, error) {
	var s horizonStats
	err := p.pool.QueryRow(ctx, `SELECT t.n_dead_tup, pg_table_size(t.relid), pg_indexes_size(t.relid),
	coalesce(io.heap_blks_hit, 0) + coalesce(io.heap_blks_read, 0) + coalesce(io.idx_blks_hit, 0) + coalesce(io.idx_blks_read, 0),
	i.idx_scan, i.idx_tup_read
FROM pg_stat_user_tables t
JOIN pg_statio_user_tables io ON io.relid = t.relid
JOIN pg_stat_user_indexes i ON i.relid = t.relid AND i.indexrelname = $3
WHERE t.schemaname = $1 AND t.relname = $2`, schema, table, index).
		Scan(&s.deadTuples, &s.tableSize, &s.indexSize, &s.buffers, &s.claimScans, &s.claimEntries)
	if err != nil {
		return s, fmt.Errorf("statistics of %s.%s: %w", schema, table, err)
	}
	return s, nil
}

// setting returns the value of one server setting.
func (p *pgAdmin) setting(ctx context.Context, name string) (string, error) {
	var v string
	err := p.pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}
