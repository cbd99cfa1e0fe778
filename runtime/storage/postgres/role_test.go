package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// The environment of a re-executed test binary: TestMain runs the role
// named by envRole instead of the tests.
const (
	envRole     = "JOBGEN_TEST_POSTGRES_ROLE"
	envSchema   = "JOBGEN_TEST_POSTGRES_SCHEMA"
	envJobs     = "JOBGEN_TEST_POSTGRES_JOBS"
	envWork     = "JOBGEN_TEST_POSTGRES_WORK"
	envLease    = "JOBGEN_TEST_POSTGRES_LEASE"
	envPoll     = "JOBGEN_TEST_POSTGRES_POLL"
	envParallel = "JOBGEN_TEST_POSTGRES_PARALLEL"
	// envPersist=1 makes the submitter retry a failed submit (the server
	// may be restarting) for up to a minute, under the job's unique key.
	envPersist = "JOBGEN_TEST_POSTGRES_PERSIST"
)

// chaosIn is the input of the jobs the process tests run.
type chaosIn struct {
	N int `json:"n"`
}

// chaosKind is the one kind the process tests submit and work.
var chaosKind = runtime.NewKind[chaosIn, runtime.NoOutput](runtime.KindOpts{Name: "chaos", Queue: "chaos", MaxAttempts: 20})

// runRole runs the subprocess role and returns its exit code.
func runRole(role string) int {
	var err error
	switch role {
	case "worker":
		err = runWorker()
	case "submitter":
		err = runSubmitter()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s %d: %v\n", role, os.Getpid(), err)
		return 1
	}
	return 0
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// roleStore opens a pool of conns connections and a store on the test's schema.
func roleStore(conns int32) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(os.Getenv(envDSN))
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = conns
	// The parent finds this process's backends by name after killing it.
	cfg.ConnConfig.RuntimeParams["application_name"] = appName(os.Getpid())
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	s, err := New(pool, &Options{Schema: os.Getenv(envSchema)})
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// appName is the application_name of process pid's connections.
func appName(pid int) string { return fmt.Sprintf("jobgen-test-%d", pid) }

// chaosLogTable is the table where subprocesses record what they saw.
func chaosLogTable(schema string) string { return pgx.Identifier{schema, "chaos_log"}.Sanitize() }

// chaosLogSQL creates it: one row per event, with the database clock.
func chaosLogSQL(schema string) string {
	return "CREATE TABLE " + chaosLogTable(schema) + ` (
		event   text        NOT NULL, -- claim, start, complete, stale (finish not applied), lost (heartbeat)
		job_id  bigint      NOT NULL,
		attempt integer     NOT NULL DEFAULT 0,
		pid     integer     NOT NULL,
		at      timestamptz NOT NULL DEFAULT clock_timestamp())`
}

// recordingStore logs every claim, applied completion and rejected write
// of this process, so the parent can check them.
type recordingStore struct {
	*Store
	pid int
	// logs is a pool of its own that commits without waiting for the WAL
	// flush: the bookkeeping must not slow down the store under test.
	logs *pgxpool.Pool
}

// newRecordingStore wraps s, logging through a pool of its own.
func newRecordingStore(s *Store) (*recordingStore, error) {
	cfg, err := pgxpool.ParseConfig(os.Getenv(envDSN))
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.RuntimeParams["application_name"] = appName(os.Getpid())
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	logs, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return &recordingStore{Store: s, pid: os.Getpid(), logs: logs}, nil
}

func (r *recordingStore) log(ctx context.Context, event string, ids []int64, attempts []int32) {
	if len(ids) == 0 {
		return
	}
	if attempts == nil {
		attempts = make([]int32, len(ids))
	}
	_, err := r.logs.Exec(context.WithoutCancel(ctx), "INSERT INTO "+chaosLogTable(r.n.schema)+
		" (event, job_id, attempt, pid) SELECT $1, unnest($2::int8[]), unnest($3::int4[]), $4", event, ids, attempts, r.pid)
	if err != nil {
		fmt.Fprintf(os.Stderr, "worker %d: log %s: %v\n", r.pid, event, err)
	}
}

func (r *recordingStore) JobClaim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	res, err := r.Store.JobClaim(ctx, p)
	if err == nil {
		var ids []int64
		var attempts []int32
		for _, j := range res.Jobs {
			ids, attempts = append(ids, j.ID), append(attempts, int32(j.Attempt))
		}
		r.log(ctx, "claim", ids, attempts)
	}
	return res, err
}

func (r *recordingStore) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	res, err := r.Store.JobFinish(ctx, p)
	if err == nil {
		var done, stale []int64
		for i, f := range p.Jobs {
			switch {
			case !res.Applied[i]:
				stale = append(stale, f.ID)
			case f.Outcome == storage.OutcomeComplete:
				done = append(done, f.ID)
			}
		}
		r.log(ctx, "complete", done, nil)
		r.log(ctx, "stale", stale, nil)
	}
	return res, err
}

func (r *recordingStore) JobHeartbeat(ctx context.Context, p *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	res, err := r.Store.JobHeartbeat(ctx, p)
	if err == nil {
		r.log(ctx, "lost", res.Lost, nil)
	}
	return res, err
}

// runWorker works the chaos queue until SIGTERM. Each job takes about
// envWork (between half and one and a half times it).
func runWorker() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	s, err := roleStore(6)
	if err != nil {
		return err
	}
	defer s.Close()
	rec, err := newRecordingStore(s)
	if err != nil {
		return err
	}
	defer rec.logs.Close()
	srv, err := runtime.NewServer(rec, runtime.Config{
		Queues:        map[string]runtime.QueueConfig{"chaos": {MaxWorkers: envInt(envParallel, 20)}},
		PollInterval:  envDuration(envPoll, 200*time.Millisecond),
		LeaseDuration: envDuration(envLease, 2*time.Second),
		StopTimeout:   5 * time.Second,
	})
	if err != nil {
		return err
	}
	work := envDuration(envWork, 10*time.Millisecond)
	err = chaosKind.Register(srv, func(ctx context.Context, job *runtime.Job[chaosIn]) (runtime.NoOutput, error) {
		rec.log(ctx, "start", []int64{job.ID}, []int32{int32(job.Attempt)})
		d := work/2 + rand.N(work+1)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return runtime.NoOutput{}, nil
		case <-ctx.Done():
			return runtime.NoOutput{}, context.Cause(ctx)
		}
	})
	if err != nil {
		return err
	}
	return serveUntil(ctx, srv)
}

// runSubmitter submits envJobs chaos jobs one by one from 24 goroutines
// through a detached client (many sessions share each WAL flush).
func runSubmitter() error {
	const parallel = 24
	s, err := roleStore(parallel)
	if err != nil {
		return err
	}
	defer s.Close()
	client, err := runtime.NewClient(s, runtime.ClientConfig{})
	if err != nil {
		return err
	}
	defer client.Close()
	n := envInt(envJobs, 1000)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	ctx := context.Background()
	for g := range parallel {
		wg.Go(func() {
			for i := g; i < n; i += parallel {
				if err := submitChaos(ctx, client, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// submitChaos submits job i; with envPersist it retries failures with the
// unique key "i", so a submit whose commit was lost with the connection is
// not doubled while the first one is still active.
func submitChaos(ctx context.Context, client *runtime.Client, i int) error {
	if os.Getenv(envPersist) != "1" {
		_, err := chaosKind.Submit(ctx, client, chaosIn{N: i}, nil)
		return err
	}
	deadline := time.Now().Add(time.Minute)
	backoff := 50 * time.Millisecond
	for {
		_, err := chaosKind.Submit(ctx, client, chaosIn{N: i}, &runtime.SubmitOpts{UniqueKey: strconv.Itoa(i)})
		if err == nil || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(backoff)
		<-t.C
		backoff = min(2*backoff, time.Second)
	}
}

// serveUntil runs srv, a worker process's server, until ctx ends, then
// stops it, giving its running jobs up to 10 s.
func serveUntil(ctx context.Context, srv *runtime.Server) error {
	if err := srv.Start(context.Background()); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Stop(sctx)
}
