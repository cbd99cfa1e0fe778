package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// pgBin is where Debian installs the PostgreSQL 15 server programs.
const pgBin = "/usr/lib/postgresql/15/bin"

// throwaway is a PostgreSQL cluster of one test, on a free port, that the
// test may stop and start at will.
type throwaway struct {
	t    *testing.T
	dir  string
	data string
	port int
}

// command runs a server program, as the postgres user when we are root
// (initdb and postgres refuse to run as root).
func (p *throwaway) command(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(pgBin, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func (p *throwaway) run(name string, args ...string) {
	p.t.Helper()
	if out, err := p.command(name, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// newThrowaway initialises and starts a cluster, and removes it when the
// test ends.
func newThrowaway(t *testing.T) *throwaway {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Skipf("no PostgreSQL server programs in %s: %v", pgBin, err)
	}
	dir, err := os.MkdirTemp("", "jobgen-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &throwaway{t: t, dir: dir, data: filepath.Join(dir, "data")}
	t.Cleanup(func() {
		_ = p.command("pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop").Run()
		_ = os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	p.run("initdb", "-D", p.data, "-A", "trust", "-U", "postgres", "--no-sync")
	p.start()
	return p
}

func (p *throwaway) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *throwaway) start() {
	p.t.Helper()
	opts := "-p " + strconv.Itoa(p.port) + " -k " + p.dir + " -c listen_addresses=127.0.0.1 -c max_connections=60 -c fsync=off"
	p.run("pg_ctl", "-D", p.data, "-o", opts, "-l", filepath.Join(p.dir, "log"), "-w", "-t", "30", "start")
}

// crash stops the server the way a crash would: no shutdown checkpoint,
// every session cut.
func (p *throwaway) crash() {
	p.t.Helper()
	p.run("pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop")
}

// TestPostgresRestart crashes and restarts PostgreSQL three times while
// two worker processes run jobs and a submitter submits them: no job is
// lost, none completes twice, and the workers claim again soon after the
// server is back.
func TestPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a PostgreSQL cluster of its own")
	}
	testDSN(t) // the PostgreSQL tests' switch
	t.Parallel()
	chaosMu.Lock()
	t.Cleanup(chaosMu.Unlock)
	pg := newThrowaway(t)
	pool, err := openPool(pg.dsn(), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := newTestStoreOn(t, pool)
	c := newClusterOn(t, s, pg.dsn())

	const jobs = 3_000
	env := []string{envWork + "=20ms", envLease + "=2s", envPoll + "=200ms"}
	c.start("worker", env...)
	c.start("worker", env...)
	sub := c.start("submitter", fmt.Sprintf("%s=%d", envJobs, jobs), envPersist+"=1")

	for i := range 3 {
		wait := time.NewTimer(500*time.Millisecond + rand.N(time.Second))
		<-wait.C
		before := c.completedRetry()
		pg.crash()
		pg.start()
		back := time.Now()
		// Claiming resumes within a bounded time after the server is back.
		c.poll(15*time.Second, "jobs to complete again after the restart", func() bool {
			return c.completedRetry() > before || c.completedRetry() >= jobs
		})
		t.Logf("restart %d: %d jobs completed before; completions resumed %v after the server was back",
			i+1, before, time.Since(back).Round(time.Millisecond))
	}
	c.wait(sub, 50*time.Second)
	// Every submitted input completed; a submit retried after a lost
	// commit may have added a second job for the same input ("recovered").
	c.poll(40*time.Second, "every input to complete", func() bool {
		return c.count("SELECT count(DISTINCT convert_from(input, 'UTF8')) FROM "+s.n.jobs+" WHERE state = 'completed'") == jobs
	})
	c.stop()
	if n := c.count("SELECT count(*) FROM " + s.n.jobs + " WHERE state <> 'completed'"); n != 0 {
		t.Errorf("%d jobs not completed; %s", n, c.states())
	}
	twice := c.count("SELECT count(*) FROM (SELECT job_id FROM " + chaosLogTable(s.n.schema) +
		" WHERE event = 'complete' GROUP BY job_id HAVING count(*) > 1) d")
	if twice != 0 {
		t.Errorf("%d jobs had their completion applied twice", twice)
	}
}

// completedRetry counts completed jobs, returning -1 while the server is
// unreachable.
func (c *cluster) completedRetry() int {
	ctx, cancel := context.WithTimeout(c.t.Context(), 2*time.Second)
	defer cancel()
	var n int
	if err := c.s.pool.QueryRow(ctx, "SELECT count(*) FROM "+c.s.n.jobs+" WHERE state = 'completed'").Scan(&n); err != nil {
		return -1
	}
	return n
}
