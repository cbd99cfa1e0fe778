// Command bench compares jobgen with River (github.com/riverqueue/river) on
// the same PostgreSQL server and on SQLite files, in one run, and prints a
// table of medians with min–max and the jobgen/other ratio of every row.
//
// What it measures, each row with every contender in turn (the order rotates
// from one repetition to the next, so slow drift on a shared machine hits
// every contender alike):
//
//   - burn-down: N no-op jobs are bulk-inserted first (each system's fastest
//     bulk insert: jobgen's JobInsertMany, River's InsertManyFast, COPY for the
//     bare queue), the table is VACUUM ANALYZEd (ANALYZE on SQLite), then the
//     clock runs from worker start until the N-th completion is known to be
//     durably written (jobgen's and River's completion events are emitted after
//     the completing transaction commits);
//   - insert-while-working: the workers run while 8 producers submit N/10 jobs
//     one by one; "completed/s" is N/10 divided by the time from the first
//     submit until the last completion is observed (so it includes the drain
//     after the last submit), "submitted/s" is N/10 divided by the time the
//     producers took;
//   - batch insert (pg-insert-many): n/2 jobs in batches of 1,000, one call
//     and one transaction each, with no workers running: jobgen's typed
//     SubmitMany against River's InsertMany and InsertManyFast, in jobs
//     inserted per second;
//   - same-process latency: sequential single submits; submit → handler start
//     and submit → completion observed by the submitter (jobgen: Handle.Wait;
//     River: a completion-event subscription on the same client), p50 and p99;
//   - cross-process latency: the submitter runs in this process, the workers in
//     a child process (this binary re-executed); submit → handler start is
//     measured on the wall clock of the one host, submit → completion through
//     jobgen's detached client (River has no cross-process completion wait);
//   - a bare hand-written SKIP LOCKED queue on the same server (claim 100 at a
//     time, complete by id list), the floor a durable PostgreSQL queue can
//     reach, in the PostgreSQL burn-down row;
//   - jobgen's memory backend beside a bare channel worker pool doing the same
//     no-op work (10×N jobs, since a memory burn-down of N is over too fast to
//     time);
//   - horizon held (pg-horizon): one producer submits single jobs at a fixed
//     rate (default 200/s) to 16 workers whose handlers sleep 1 ms, through
//     three phases: clean, held (another session pins the cluster's xmin
//     horizon, so vacuum cannot remove dead row versions: a transaction idle
//     with an xid, or with -horizon-holder rr REPEATABLE READ readers holding
//     a snapshot) and recovery. Each phase reports pickup latency p50/p95/p99
//     (from a fixed-size histogram), completion rate (in the whole phase and
//     in its last minute), the largest queue depth, the table's dead tuples
//     and size, and the claim index's scans and entries read. Its phases take
//     5 minutes per system (-horizon-clean, -horizon-hold, -horizon-recover),
//     so it runs only when -only selects it, or with -smoke (phases of a few
//     seconds).
//
// Every run checks that each job ran exactly once and that storage holds every
// job as completed, and fails loudly otherwise, so a broken system cannot look
// fast. Every system gets a fresh schema (PostgreSQL) or database file (SQLite)
// per repetition. River runs twice: with the fetch settings of its own
// benchmark (FetchCooldown 2ms, FetchPollInterval 20ms) and with its defaults.
// Both systems get the same number of workers (-workers).
//
// Run it from this directory:
//
//	go run . -pg 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run . -smoke                      # tiny N, one repetition, every row
//	go run . -only pg-burndown -reps 1 -cpuprofile pg.prof   # jobgen only
//	go run . -only pg-horizon -horizon-hold 8m                # the README's horizon row
//	go run . -only pg-horizon -horizon-holder rr
//
// The PostgreSQL URL defaults to $JOBGEN_BENCH_POSTGRES.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"runtime/pprof"
	"syscall"
	"time"
)

const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// options are the command-line settings shared by every row.
type options struct {
	dsn        string
	sqliteDir  string
	n          int
	reps       int
	workers    int
	latN       int
	bareLoops  int
	only       *regexp.Regexp
	smoke      bool
	cpuprofile string
	// storageStats reports the time jobgen's storage calls take.
	storageStats bool
	timeout      time.Duration
	logger       *slog.Logger
	horizon      horizonOptions
	// retention is how long the systems keep completed jobs; zero for
	// their defaults (every row but pg-horizon with -horizon-retention).
	retention time.Duration
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == workerModeArg {
		if err := runWorkerProcess(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	dsn := os.Getenv("JOBGEN_BENCH_POSTGRES")
	if dsn == "" {
		dsn = defaultDSN
	}
	var (
		o     options
		only  string
		debug bool
	)
	flag.StringVar(&o.dsn, "pg", dsn, "PostgreSQL URL (default from $JOBGEN_BENCH_POSTGRES)")
	flag.StringVar(&o.sqliteDir, "sqlite-dir", "", "directory for the SQLite files (default: a new temporary directory)")
	flag.IntVar(&o.n, "n", 100_000, "jobs per burn-down (insert-while-working uses n/10, memory 10×n)")
	flag.IntVar(&o.reps, "reps", 5, "repetitions of every contender in every row")
	flag.IntVar(&o.workers, "workers", 2000, "workers (handler goroutines) of every system; River's own benchmark uses 2,000")
	flag.IntVar(&o.latN, "lat-n", 100, "sequential submits per latency measurement (after 5 unmeasured warm-up submits)")
	flag.IntVar(&o.bareLoops, "bare-loops", 4, "concurrent claim loops of the bare SKIP LOCKED queue")
	flag.StringVar(&only, "only", "", "run only rows whose name matches this regular expression")
	flag.BoolVar(&o.smoke, "smoke", false, "tiny N, one repetition, every row (a quick check that the program works)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of jobgen's first timed run of each selected row to this file (runs jobgen only; select one row with -only)")
	flag.BoolVar(&o.storageStats, "storage-stats", false, "report calls, jobs per call and time of jobgen's storage calls per run (to standard error)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "limit on any one timed run")
	flag.BoolVar(&debug, "v", false, "log the systems' own warnings and errors")
	horizonFlags(&o.horizon)
	flag.Parse()

	if o.smoke {
		o.n, o.reps, o.latN = 1000, 1, 5
		o.timeout = 2 * time.Minute
		o.horizon.smoke()
	}
	if o.n < 10 || o.reps < 1 || o.workers < 1 || o.latN < 1 || o.bareLoops < 1 {
		return errors.New("-n must be at least 10, and -reps, -workers, -lat-n and -bare-loops at least 1")
	}
	if err := o.horizon.validate(); err != nil {
		return err
	}
	var err error
	if only != "" {
		if o.only, err = regexp.Compile(only); err != nil {
			return fmt.Errorf("-only: %w", err)
		}
	}
	o.logger = slog.New(slog.DiscardHandler)
	if debug {
		o.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if o.sqliteDir == "" {
		dir, err := os.MkdirTemp("", "jobgen-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.sqliteDir = dir
	} else if o.sqliteDir, err = filepath.Abs(o.sqliteDir); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rows := allRows(&o)
	var selected []*row
	for _, r := range rows {
		if o.only != nil && o.only.MatchString(r.name) || o.only == nil && (!r.optIn || o.smoke) {
			selected = append(selected, r)
		}
	}
	if len(selected) == 0 {
		return fmt.Errorf("-only %q matches no row; rows: %s", only, rowNames(rows))
	}
	needPG := false
	for _, r := range selected {
		needPG = needPG || r.pg
	}

	fmt.Printf("machine: %d CPUs, %s/%s, %s\n", goruntime.NumCPU(), goruntime.GOOS, goruntime.GOARCH, goruntime.Version())
	var pg *pgAdmin
	if needPG {
		if pg, err = newPGAdmin(ctx, o.dsn); err != nil {
			return err
		}
		defer pg.close()
		info, err := pg.describe(ctx)
		if err != nil {
			return err
		}
		fmt.Print(info)
	}
	fmt.Printf("settings: n=%d reps=%d workers=%d lat-n=%d bare-loops=%d\n\n", o.n, o.reps, o.workers, o.latN, o.bareLoops)

	env := &env{opts: &o, pg: pg}
	var results []*rowResult
	for _, r := range selected {
		contenders := r.contenders
		if o.cpuprofile != "" {
			contenders = contenders[:1] // jobgen is always first
			env.profile = &profiler{path: o.cpuprofile}
			if len(selected) > 1 {
				env.profile.path = fmt.Sprintf("%s.%s", o.cpuprofile, r.name)
			}
		}
		res, err := runRow(ctx, env, r, contenders)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		results = append(results, res)
		if env.profile != nil {
			if err := env.profile.stop(); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "cpu profile of %s written to %s\n", r.name, env.profile.path)
		}
	}
	printTable(os.Stdout, results)
	fmt.Print(notes)
	return nil
}

// profiler records one CPU profile: around the first timed section it is
// given.
type profiler struct {
	path    string
	f       *os.File
	started bool
	done    bool
}

// start begins profiling unless a profile was already taken.
func (p *profiler) start() error {
	if p == nil || p.started {
		return nil
	}
	p.started = true
	f, err := os.Create(p.path)
	if err != nil {
		return err
	}
	p.f = f
	return pprof.StartCPUProfile(f)
}

// stop ends the profile started by start, if it is running.
func (p *profiler) stop() error {
	if p == nil || p.f == nil || p.done {
		return nil
	}
	p.done = true
	pprof.StopCPUProfile()
	return p.f.Close()
}
