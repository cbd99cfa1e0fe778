package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// These tests run several processes on one database file. The test binary
// re-executes itself; helperEnv selects the role (see runHelperProcess,
// called from TestMain before goleak) and the variables below carry the
// role's parameters.
const (
	envDB    = "JOBGEN_SQLITE_DB"    // database file
	envLog   = "JOBGEN_SQLITE_LOG"   // log file prefix of this process
	envJobs  = "JOBGEN_SQLITE_JOBS"  // submitter: how many jobs
	envDelay = "JOBGEN_SQLITE_DELAY" // worker: how long each job works
	envLease = "JOBGEN_SQLITE_LEASE" // worker: lease duration
)

// procArgs is the input of a job in the process tests.
type procArgs struct {
	N int `json:"n"`
}

// procKind is the kind every helper process submits and works.
var procKind = runtime.NewKind[procArgs, runtime.NoOutput](runtime.KindOpts{Name: "proc", MaxAttempts: 25})

func init() {
	helperRoles["submitter"] = helperSubmitter
	helperRoles["worker"] = helperWorker
}

// TestHelperProcess is the entry the helpers are started with; the role
// itself runs from TestMain, so here there is nothing to do.
func TestHelperProcess(t *testing.T) {
	t.Parallel()
	if os.Getenv(helperEnv) == "" {
		t.Skip("runs only as a helper process")
	}
}

// helperSubmitter submits envJobs jobs one by one through a detached client.
func helperSubmitter() int {
	n, _ := strconv.Atoi(os.Getenv(envJobs))
	store, err := Open(os.Getenv(envDB), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "submitter:", err)
		return 1
	}
	defer store.Close()
	client, err := runtime.NewClient(store, runtime.ClientConfig{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "submitter:", err)
		return 1
	}
	defer client.Close()
	ctx := context.Background()
	for i := range n {
		if _, err := procKind.Submit(ctx, client, procArgs{N: i}, nil); err != nil {
			fmt.Fprintln(os.Stderr, "submitter:", err)
			return 1
		}
	}
	return 0
}

// recordingStore records every completion that JobFinish applied, one line
// "id token" per completion, written with one write call per batch so a
// kill never leaves half a batch.
type recordingStore struct {
	storage.Storage
	mu  sync.Mutex
	log *os.File
}

func (r *recordingStore) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	res, err := r.Storage.JobFinish(ctx, p)
	if err != nil {
		return res, err
	}
	var b strings.Builder
	for i, f := range p.Jobs {
		if res.Applied[i] && f.Outcome == storage.OutcomeComplete {
			fmt.Fprintf(&b, "%d %d\n", f.ID, f.LeaseToken)
		}
	}
	if b.Len() > 0 {
		r.mu.Lock()
		_, werr := r.log.WriteString(b.String())
		r.mu.Unlock()
		if werr != nil {
			return res, werr
		}
	}
	return res, nil
}

// helperWorker works the proc kind until SIGTERM, then stops gracefully.
// Every run of a handler appends "id attempt" to <log>.exec; every applied
// completion appends "id token" to <log>.done.
func helperWorker() int {
	delay, _ := time.ParseDuration(os.Getenv(envDelay))
	lease, _ := time.ParseDuration(os.Getenv(envLease))
	prefix := os.Getenv(envLog)
	execLog, err := os.OpenFile(prefix+".exec", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	defer execLog.Close()
	doneLog, err := os.OpenFile(prefix+".done", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	defer doneLog.Close()

	store, err := Open(os.Getenv(envDB), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	defer store.Close()
	srv, err := runtime.NewServer(&recordingStore{Storage: store, log: doneLog}, runtime.Config{
		PollInterval:  50 * time.Millisecond,
		LeaseDuration: lease,
		StopTimeout:   5 * time.Second,
		Queues:        map[string]runtime.QueueConfig{runtime.DefaultQueue: {MaxWorkers: 32}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	var mu sync.Mutex
	err = procKind.Register(srv, func(ctx context.Context, job *runtime.Job[procArgs]) (runtime.NoOutput, error) {
		mu.Lock()
		_, err := fmt.Fprintf(execLog, "%d %d\n", job.ID, job.Attempt)
		mu.Unlock()
		if err != nil {
			return runtime.NoOutput{}, err
		}
		if delay > 0 {
			// The job's work: it takes delay, or stops early when cancelled.
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return runtime.NoOutput{}, ctx.Err()
			case <-t.C:
			}
		}
		return runtime.NoOutput{}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := srv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Stop(stopCtx); err != nil {
		fmt.Fprintln(os.Stderr, "worker: stop:", err)
		return 1
	}
	return 0
}

// proc is one running helper process.
type proc struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
	done   chan error
}

// startHelper starts the test binary in role with env added.
func startHelper(t *testing.T, role string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+role), env...)
	p := &proc{cmd: cmd, stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", role, err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for p to exit, at most d.
func (p *proc) wait(t *testing.T, name string, d time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // keep it for the cleanup
		return err
	case <-time.After(d):
		t.Fatalf("%s did not exit within %v; stderr:\n%s", name, d, p.stderrText())
		return nil
	}
}

// stderrText returns what p wrote to stderr, headed by a note when the
// race detector reported a data race in it (exit status 66).
func (p *proc) stderrText() string {
	lw := p.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	text := p.stderr.String()
	if strings.Contains(text, "WARNING: DATA RACE") {
		text = "(the race detector reported a data race in this helper process)\n" + text
	}
	return text
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// countStates returns how many jobs are in each state.
func countStates(t *testing.T, s *Store) map[storage.State]int {
	t.Helper()
	rows, err := s.read.Query(`SELECT state, count(*) FROM jobgen_jobs GROUP BY state`)
	if err != nil {
		t.Fatalf("count states: %v", err)
	}
	defer rows.Close()
	m := map[storage.State]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			t.Fatal(err)
		}
		m[storage.State(st)] = n
	}
	return m
}

// waitCompleted polls until at least n jobs are completed, or fails the
// test at the deadline.
func waitCompleted(t *testing.T, s *Store, n int, deadline time.Time, procs ...*proc) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c := countStates(t, s)
		if c[storage.StateCompleted] >= n {
			return
		}
		if time.Now().After(deadline) {
			var errs []string
			for _, p := range procs {
				errs = append(errs, p.stderrText())
			}
			t.Fatalf("waiting for %d completed jobs: states %v; stderr:\n%s", n, c, strings.Join(errs, "\n"))
		}
		<-tick.C
	}
}

// completedOnce fails the test when the workers' logs in dir record a
// job's completion more than once, and returns how many they record.
func completedOnce(t *testing.T, dir string) int {
	t.Helper()
	done := map[int64]int{}
	for _, r := range readPairs(t, filepath.Join(dir, "w*.done")) {
		done[r[0]]++
	}
	for id, c := range done {
		if c != 1 {
			t.Fatalf("job %d completed %d times", id, c)
		}
	}
	return len(done)
}

// readPairs reads "a b" lines from every file matching pattern.
func readPairs(t *testing.T, pattern string) [][2]int64 {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]int64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var a, b int64
			if _, err := fmt.Sscanf(sc.Text(), "%d %d", &a, &b); err != nil {
				f.Close()
				t.Fatalf("%s: bad line %q: %v", name, sc.Text(), err)
			}
			out = append(out, [2]int64{a, b})
		}
		f.Close()
	}
	return out
}

// sigterm asks p to stop gracefully and waits for a clean exit.
func sigterm(t *testing.T, p *proc, name string) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal %s: %v", name, err)
	}
	if err := p.wait(t, name, 20*time.Second); err != nil {
		t.Fatalf("%s: %v; stderr:\n%s", name, err, p.stderrText())
	}
}

// processTestDB prepares a test that starts subprocesses (skipped with
// -short; run in parallel): a temporary directory for their logs, the
// database file in it and this process's store over that file.
func processTestDB(t *testing.T) (dir, db string, s *Store) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	t.Parallel()
	dir = t.TempDir()
	db = filepath.Join(dir, "jobs.db")
	s, err := Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return dir, db, s
}

// TestProcessesShareOneFile runs one submitter and two workers, each its
// own process, over 5,000 jobs: every job completes exactly once.
func TestProcessesShareOneFile(t *testing.T) {
	const n = 5000
	dir, db, s := processTestDB(t)
	deadline := time.Now().Add(50 * time.Second)

	// Nothing is killed here, so a long lease costs nothing; it keeps a
	// worker whose writes queue behind the other processes' (SQLite's busy
	// handler is not fair, and -race slows every process) from losing
	// leases it still holds.
	w1 := startHelper(t, "worker", envDB+"="+db, envLog+"="+filepath.Join(dir, "w1"), envDelay+"=1ms", envLease+"=10s")
	w2 := startHelper(t, "worker", envDB+"="+db, envLog+"="+filepath.Join(dir, "w2"), envDelay+"=1ms", envLease+"=10s")
	sub := startHelper(t, "submitter", envDB+"="+db, envJobs+"="+strconv.Itoa(n))
	if err := sub.wait(t, "submitter", 40*time.Second); err != nil {
		t.Fatalf("submitter: %v; stderr:\n%s", err, sub.stderrText())
	}
	waitCompleted(t, s, n, deadline, w1, w2)
	sigterm(t, w1, "worker 1")
	sigterm(t, w2, "worker 2")

	if c := countStates(t, s); c[storage.StateCompleted] != n || len(c) != 1 {
		t.Fatalf("states %v, want %d completed", c, n)
	}
	runs := map[int64]int{}
	perWorker := map[string]int{}
	for _, w := range []string{"w1", "w2"} {
		for _, r := range readPairs(t, filepath.Join(dir, w+".exec")) {
			runs[r[0]]++
			perWorker[w]++
		}
	}
	if len(runs) != n {
		t.Fatalf("%d distinct jobs ran, want %d", len(runs), n)
	}
	for id, c := range runs {
		if c != 1 {
			t.Fatalf("job %d ran %d times", id, c)
		}
	}
	if done := completedOnce(t, dir); done != n {
		t.Fatalf("%d completions recorded, want %d", done, n)
	}
	t.Logf("jobs run per worker: %v", perWorker)
	integrityCheck(t, db)
}

// TestWorkerKilled kills a worker with SIGKILL three times during a
// 5,000-job run and restarts it each time: no job is lost, none completes
// twice, jobs running at a kill are claimed again once their lease expires,
// and the file is intact.
func TestWorkerKilled(t *testing.T) {
	const n = 5000
	dir, db, s := processTestDB(t)
	ctx := context.Background()
	batch := make([]*storage.JobInsertParams, 0, n)
	for i := range n {
		batch = append(batch, &storage.JobInsertParams{
			Kind: procKind.Name(), Queue: runtime.DefaultQueue, Input: fmt.Appendf(nil, `{"n":%d}`, i), MaxAttempts: 25,
		})
	}
	if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(50 * time.Second)
	start := func(gen int) *proc {
		return startHelper(t, "worker", envDB+"="+db, envLog+"="+filepath.Join(dir, fmt.Sprintf("w%d", gen)), envDelay+"=10ms", envLease+"=500ms")
	}
	w := start(0)
	for kill := 1; kill <= 3; kill++ {
		waitCompleted(t, s, kill*n/4, deadline, w)
		if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill: %v", err)
		}
		err := w.wait(t, "killed worker", 10*time.Second)
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("killed worker exited with %v", err)
		}
		w = start(kill)
	}
	waitCompleted(t, s, n, deadline, w)
	sigterm(t, w, "last worker")

	if c := countStates(t, s); c[storage.StateCompleted] != n || len(c) != 1 {
		t.Fatalf("states %v, want %d completed", c, n)
	}
	done := completedOnce(t, dir)
	runs := map[int64]int{}
	for _, r := range readPairs(t, filepath.Join(dir, "w*.exec")) {
		runs[r[0]]++
	}
	if len(runs) != n {
		t.Fatalf("%d distinct jobs ran, want %d", len(runs), n)
	}
	var rerun int
	for _, c := range runs {
		if c > 1 {
			rerun++
		}
	}
	var rescued int
	if err := s.read.QueryRow(`SELECT count(*) FROM jobgen_jobs WHERE attempt > 1`).Scan(&rescued); err != nil {
		t.Fatal(err)
	}
	if rescued == 0 {
		t.Fatal("no job was claimed again after a kill")
	}
	t.Logf("completions recorded %d of %d (a kill may cut a record after its commit); jobs run again %d; jobs with attempt > 1: %d",
		done, n, rerun, rescued)
	integrityCheck(t, db)
}
