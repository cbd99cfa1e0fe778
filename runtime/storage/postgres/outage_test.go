package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// fault is what a faultProxy does to the traffic it forwards.
type fault int

const (
	faultNone fault = iota
	// faultDrop closes every connection, and every new one at once: the
	// server is down or the network refuses.
	faultDrop
	// faultBlackHole keeps connections open, and accepts new ones, but
	// forwards nothing until healed: a network partition. What was held
	// is forwarded then, as TCP would once the partition ends.
	faultBlackHole
	// faultLoseAnswers forwards what clients send, but loses the server's
	// answer to every statement it ran (from the first CommandComplete
	// on): a connection cut right after the server received a statement,
	// which it runs and commits, and before its answer got through. The
	// connection is closed a moment after the answer is lost, once the
	// server has finished what it received. Connection attempts and
	// statement preparations get their answers.
	faultLoseAnswers
)

// answerLinger is how long a connection that lost an answer stays open.
const answerLinger = 100 * time.Millisecond

// faultProxy forwards TCP connections from a port of its own to the
// PostgreSQL server, and fails them the ways an outage does.
type faultProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu      sync.Mutex
	fault   fault
	latency time.Duration // added to every chunk forwarded
	healed  chan struct{} // closed when a black hole ends
	conns   map[*proxyConn]struct{}
	listens int // connections that sent LISTEN, ever
	wg      sync.WaitGroup
}

// proxyConn is one forwarded connection.
type proxyConn struct {
	client, server net.Conn
	once           sync.Once
	closed         chan struct{}
	listen         atomic.Bool // it sent LISTEN: the notifier's connection
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		close(c.closed)
		_ = c.client.Close()
		_ = c.server.Close()
	})
}

// newFaultProxy starts a proxy to the test server and stops it when the
// test ends.
func newFaultProxy(t *testing.T) *faultProxy {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{
		t:      t,
		ln:     ln,
		target: net.JoinHostPort(cfg.ConnConfig.Host, fmt.Sprint(cfg.ConnConfig.Port)),
		healed: make(chan struct{}),
		conns:  make(map[*proxyConn]struct{}),
	}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for c := range p.conns {
			c.close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// pool returns a pool of at most maxConns connections through the proxy,
// closed when the test ends.
func (p *faultProxy) pool(maxConns int32) *pgxpool.Pool {
	p.t.Helper()
	cfg, err := pgxpool.ParseConfig(testDSN(p.t))
	if err != nil {
		p.t.Fatal(err)
	}
	addr := p.ln.Addr().(*net.TCPAddr)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = addr.IP.String(), uint16(addr.Port), nil
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	cfg.MaxConns = maxConns
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(pool.Close)
	return pool
}

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		if p.fault == faultDrop {
			p.mu.Unlock()
			_ = client.Close()
			continue
		}
		p.mu.Unlock()
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server, closed: make(chan struct{})}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, c.server, c.client, true)
		go p.pipe(c, c.client, c.server, false)
	}
}

// pipe forwards what src sends to dst until either side closes.
func (p *faultProxy) pipe(c *proxyConn, dst, src net.Conn, fromClient bool) {
	defer p.wg.Done()
	defer func() {
		c.close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	var replies replyScanner
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if fromClient && !c.listen.Load() && bytes.Contains(buf[:n], []byte("LISTEN ")) {
				c.listen.Store(true)
				p.mu.Lock()
				p.listens++
				p.mu.Unlock()
			}
			latency, ok := p.pass(c, !fromClient && replies.ran(buf[:n]))
			if !ok {
				return
			}
			if latency > 0 {
				// The latency mode's delay, inside the proxy.
				select {
				case <-time.After(latency):
				case <-c.closed:
					return
				}
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// replyScanner follows the messages a server sends (a type byte and a
// length each) across the chunks they arrive in.
type replyScanner struct {
	header [5]byte
	have   int // bytes of the current message's header seen
	skip   int // bytes of the current message's body still to come
}

// ran reports whether chunk b holds a CommandComplete message: the answer
// to a statement the server ran.
func (s *replyScanner) ran(b []byte) bool {
	found := false
	for len(b) > 0 {
		if s.skip > 0 {
			n := min(s.skip, len(b))
			s.skip, b = s.skip-n, b[n:]
			continue
		}
		n := copy(s.header[s.have:], b)
		s.have, b = s.have+n, b[n:]
		if s.have == len(s.header) {
			found = found || s.header[0] == 'C'
			s.skip, s.have = int(binary.BigEndian.Uint32(s.header[1:]))-4, 0
		}
	}
	return found
}

// pass waits while a black hole holds the traffic and returns the latency
// to add; false when the chunk is not to be forwarded and c is to be
// closed: c was closed meanwhile, or the chunk is an answer to a statement
// that ran (ran), to be lost.
func (p *faultProxy) pass(c *proxyConn, ran bool) (time.Duration, bool) {
	for {
		p.mu.Lock()
		f, latency, healed := p.fault, p.latency, p.healed
		p.mu.Unlock()
		if f == faultLoseAnswers && ran {
			select { // the server finishes what it received, unanswered
			case <-time.After(answerLinger):
			case <-c.closed:
			}
			return 0, false
		}
		if f != faultBlackHole {
			return latency, true
		}
		select {
		case <-healed:
		case <-c.closed:
			return 0, false
		}
	}
}

// set starts fault f (faultDrop closes every connection at once).
func (p *faultProxy) set(f fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
	if f == faultDrop {
		for c := range p.conns {
			c.close()
		}
	}
}

// setLatency adds d to every chunk forwarded from now on.
func (p *faultProxy) setLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// heal ends every fault and the latency.
func (p *faultProxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.latency = faultNone, 0
	close(p.healed)
	p.healed = make(chan struct{})
}

// cutListen closes the connections that sent LISTEN and returns how many.
func (p *faultProxy) cutListen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		if c.listen.Load() {
			c.close()
			n++
		}
	}
	return n
}

// listenCount returns how many connections have sent LISTEN so far.
func (p *faultProxy) listenCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listens
}

// outageArgs is the input of the outage tests' kind.
type outageArgs struct {
	N int `json:"n"`
}

var outageKind = runtime.NewKind[outageArgs, runtime.NoOutput](runtime.KindOpts{Name: "outage", MaxAttempts: 5})

// start is one handler run.
type start struct {
	id      int64
	attempt int
	at      time.Time
}

// outageRig is a server on a store whose every connection goes through a
// fault proxy, and a direct store on the same schema that submits and
// checks past the proxy.
type outageRig struct {
	t      *testing.T
	proxy  *faultProxy
	direct *Store
	srv    *runtime.Server
	logs   syncBuffer

	// work is the handler's own work.
	work      func(ctx context.Context, args outageArgs) error
	starts    chan start
	completed chan int64 // the job of every completion event

	mu          sync.Mutex
	runs        map[int64]int // handler runs per job
	completions map[int64]int // completion events per job
}

// newOutageRig starts the rig's server with cfg; it is stopped, if the test
// has not stopped it, when the test ends.
func newOutageRig(t *testing.T, cfg runtime.Config, work func(ctx context.Context, args outageArgs) error) *outageRig {
	t.Helper()
	if testing.Short() {
		t.Skip("holds outages of seconds")
	}
	testDSN(t)
	chaosMu.Lock() // the bounds on recovery assume a machine not shared with the process tests
	t.Cleanup(chaosMu.Unlock)
	r := &outageRig{
		t: t, work: work,
		starts: make(chan start, 1<<16), completed: make(chan int64, 1<<16),
		runs: make(map[int64]int), completions: make(map[int64]int),
	}
	r.direct = newTestStore(t)
	r.proxy = newFaultProxy(t)
	s, err := New(r.proxy.pool(8), &Options{Schema: r.direct.n.schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	cfg.Logger = slog.New(slog.NewTextHandler(&r.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r.srv, err = runtime.NewServer(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := outageKind.Register(r.srv, r.handle); err != nil {
		t.Fatal(err)
	}
	cancel := r.srv.Client().Subscribe(func(ev runtime.Event) {
		if ev.Kind == runtime.EventCompleted {
			r.mu.Lock()
			r.completions[ev.JobID]++
			r.mu.Unlock()
			r.completed <- ev.JobID
		}
	})
	if err := r.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.proxy.heal()
		ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		if err := r.srv.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		cancel()
		if t.Failed() {
			t.Logf("server log:\n%s", r.logs.String())
		}
	})
	return r
}

func (r *outageRig) handle(ctx context.Context, j *runtime.Job[outageArgs]) (runtime.NoOutput, error) {
	r.mu.Lock()
	r.runs[j.ID]++
	r.mu.Unlock()
	r.starts <- start{id: j.ID, attempt: j.Attempt, at: time.Now()}
	return runtime.NoOutput{}, r.work(ctx, j.Args)
}

// submit inserts n jobs with input n past the proxy and returns their ids.
func (r *outageRig) submit(count, n int) []int64 {
	r.t.Helper()
	p := &storage.JobInsertManyParams{}
	for range count {
		p.Jobs = append(p.Jobs, &storage.JobInsertParams{Kind: outageKind.Name(), Queue: runtime.DefaultQueue, Input: fmt.Appendf(nil, `{"n":%d}`, n), MaxAttempts: 5})
	}
	res, err := r.direct.JobInsertMany(r.t.Context(), p)
	if err != nil {
		r.t.Fatal(err)
	}
	ids := make([]int64, len(res))
	for i, x := range res {
		ids[i] = x.Job.ID
	}
	return ids
}

// startedAfter waits until a job starts after at, and returns how long
// after at that was; it fails the test when none has started bound after
// at (a zero at: bound from now).
func (r *outageRig) startedAfter(at time.Time, bound time.Duration, what string) time.Duration {
	r.t.Helper()
	deadline := at.Add(bound)
	if at.IsZero() {
		deadline = time.Now().Add(bound)
	}
	timeout := time.NewTimer(time.Until(deadline))
	defer timeout.Stop()
	for {
		select {
		case s := <-r.starts:
			if s.at.After(at) {
				return s.at.Sub(at)
			}
		case <-timeout.C:
			r.t.Fatalf("no job started within %v of %s", bound, what)
		}
	}
}

// waitDone waits until every job of ids is completed in storage and has
// had its completion event, or fails the test after bound.
func (r *outageRig) waitDone(ids []int64, bound time.Duration) {
	r.t.Helper()
	timeout := time.NewTimer(bound)
	defer timeout.Stop()
	want := make(map[int64]bool, len(ids))
	r.mu.Lock()
	for _, id := range ids {
		if r.completions[id] == 0 {
			want[id] = true
		}
	}
	r.mu.Unlock()
	for len(want) > 0 {
		select {
		case id := <-r.completed:
			delete(want, id)
		case <-timeout.C:
			r.t.Fatalf("%d of %d jobs without a completion event after %v; jobs by state: %s", len(want), len(ids), bound, r.states())
		}
	}
	var n int
	if err := r.direct.pool.QueryRow(r.t.Context(), "SELECT count(*) FROM "+r.direct.n.jobs+" WHERE state = 'completed' AND id = ANY($1)", ids).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	if n != len(ids) {
		r.t.Fatalf("every job had its completion event, but %d of %d are completed in storage", n, len(ids))
	}
}

// states counts the rig's jobs by state.
func (r *outageRig) states() string {
	return (&cluster{t: r.t, s: r.direct}).states()
}

// checkOnce checks that every job of ids ran once and had one completion
// event.
func (r *outageRig) checkOnce(ids []int64) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	bad := 0
	for _, id := range ids {
		if runs, events := r.runs[id], r.completions[id]; runs != 1 || events != 1 {
			if bad++; bad <= 5 {
				r.t.Errorf("job %d ran %d times with %d completion events, want once with one", id, runs, events)
			}
		}
	}
	if bad > 0 {
		r.t.Errorf("%d of %d jobs not run exactly once with one completion event", bad, len(ids))
	}
	// A claim whose commit landed but whose answer the fault lost leaves
	// its jobs running under a lease this server never heard of: they are
	// rescued when it expires, and run once, at attempt 2. That is the
	// at-least-once rule, not a re-run; the runs above are the check.
	var rescued int
	if err := r.direct.pool.QueryRow(r.t.Context(), "SELECT count(*) FROM "+r.direct.n.jobs+" WHERE id = ANY($1) AND attempt <> 1", ids).Scan(&rescued); err != nil {
		r.t.Fatal(err)
	}
	if rescued > 0 {
		r.t.Logf("%d jobs were rescued after a claim whose answer was lost", rescued)
	}
}

// shortWork is the work of a job of the fault test: a few milliseconds.
func shortWork(ctx context.Context, _ outageArgs) error {
	select {
	case <-time.After(5 * time.Millisecond):
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// TestOutageFaults runs jobs through a proxy that drops every connection,
// black-holes them and adds latency, each for longer than a finisher once
// kept trying, and that cuts the LISTEN connection. After each heal claims
// resume within 5s; in the end every job has completed exactly once, with
// one completion event, and Stop returns in time. A submit through the
// proxy while it drops connections fails with runtime.ErrUnavailable.
func TestOutageFaults(t *testing.T) {
	t.Parallel()
	r := newOutageRig(t, runtime.Config{LeaseDuration: 10 * time.Second, PollInterval: 200 * time.Millisecond}, shortWork)
	const outage = 2 * time.Second
	var ids []int64
	// The jobs are submitted in waves, so that when a fault begins and
	// ends some run, some wait for their outcome to be written and some
	// wait to be claimed.
	wave := func() { ids = append(ids, r.submit(50, 0)...) }
	hold := func(what string) {
		timer := time.NewTimer(outage)
		defer timer.Stop()
		wave()
		<-timer.C // the outage, while the server keeps trying
		r.proxy.heal()
		healed := time.Now()
		wave()
		took := r.startedAfter(healed, 5*time.Second, "the end of "+what)
		t.Logf("%s: claims resumed %v after the heal", what, took.Round(time.Millisecond))
	}

	wave()
	r.startedAfter(time.Time{}, 20*time.Second, "the first submit")
	wave()
	r.proxy.set(faultDrop)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	_, err := outageKind.Submit(ctx, r.srv.Client(), outageArgs{N: 1}, nil)
	cancel()
	if !errors.Is(err, runtime.ErrUnavailable) || !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("submit while the connections drop: %v, want an error matching runtime.ErrUnavailable and storage.ErrUnavailable", err)
	}
	hold("dropped connections")

	wave()
	r.proxy.set(faultBlackHole)
	hold("a black hole")

	wave()
	r.proxy.setLatency(50 * time.Millisecond)
	hold("latency")

	wave()
	listens := r.proxy.listenCount()
	if n := r.proxy.cutListen(); n != 1 {
		t.Errorf("cut %d LISTEN connections, want 1", n)
	}
	cut := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	for r.proxy.listenCount() == listens && time.Since(cut) < 5*time.Second {
		<-tick.C
	}
	tick.Stop()
	if r.proxy.listenCount() == listens {
		t.Error("the listener did not reconnect within 5s of its connection's cut")
	}
	wave()
	r.startedAfter(cut, 5*time.Second, "the LISTEN connection's cut")

	r.waitDone(ids, 30*time.Second)
	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := r.srv.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	r.checkOnce(ids)
	t.Logf("%d jobs checked", len(ids))
}

// TestOutageFinisherWaits: jobs finish while the database is out of reach
// for longer than the finisher once kept trying; their outcomes are written
// when the database is back, with their completion events, and no job runs
// again. Then a Stop while the network black-holes the server's
// connections returns within its context, and a later Stop, once the
// network is back, returns nil.
func TestOutageFinisherWaits(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	r := newOutageRig(t, runtime.Config{LeaseDuration: 10 * time.Second, PollInterval: 200 * time.Millisecond}, func(ctx context.Context, args outageArgs) error {
		if args.N == 0 { // else run until cancelled
			select {
			case <-release:
				return nil
			case <-ctx.Done():
			}
		}
		<-ctx.Done()
		return context.Cause(ctx)
	})
	ids := r.submit(3, 0)
	for range ids {
		r.startedAfter(time.Time{}, 20*time.Second, "the jobs' submit")
	}
	r.proxy.set(faultDrop)
	close(release) // the handlers return while nothing can be written
	outage := time.NewTimer(3 * time.Second)
	<-outage.C
	r.proxy.heal()
	r.waitDone(ids, 10*time.Second)
	r.checkOnce(ids)

	held := r.submit(1, 1)[0]
	r.startedAfter(time.Time{}, 20*time.Second, "the held job's submit")
	r.proxy.set(faultBlackHole)
	const bound = 2 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), bound)
	defer cancel()
	began := time.Now()
	err := r.srv.Stop(ctx)
	if took := time.Since(began); took > bound+time.Second {
		t.Errorf("Stop took %v with a context of %v", took, bound)
	}
	t.Logf("Stop during a black hole: %v", err)
	r.proxy.heal()
	ctx, cancel = context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := r.srv.Stop(ctx); err != nil {
		t.Fatalf("Stop once the network is back: %v", err)
	}
	j, err := r.direct.JobGet(t.Context(), &storage.JobGetParams{ID: held})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the job cut off by the stop is %s at attempt %d", j.State, j.Attempt)
}

// TestOutageAnswerLost: outcome writes reach the database and commit, but
// their answers are lost with the connection, and so are the answers of
// every statement and connection attempt until the network heals. The
// finisher cannot tell whether its writes landed, and its retry finds the
// leases already cleared: it must read back what landed and emit each
// completion event once; no job runs again.
func TestOutageAnswerLost(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	r := newOutageRig(t, runtime.Config{LeaseDuration: 10 * time.Second, PollInterval: 200 * time.Millisecond}, func(ctx context.Context, _ outageArgs) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	ids := r.submit(5, 0)
	for range ids {
		r.startedAfter(time.Time{}, 20*time.Second, "the jobs' submit")
	}
	r.proxy.set(faultLoseAnswers)
	close(release)
	// A write lands while the server hears nothing back. (The finisher
	// retries that write's batch; outcomes behind it wait for the heal.)
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		if err := r.direct.pool.QueryRow(t.Context(), "SELECT count(*) FROM "+r.direct.n.jobs+" WHERE state = 'completed' AND id = ANY($1)", ids).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no outcome landed while the answers were lost; jobs by state: %s", r.states())
		}
		<-tick.C
	}
	outage := time.NewTimer(1500 * time.Millisecond) // the finisher keeps trying meanwhile
	<-outage.C
	r.mu.Lock()
	events := len(r.completions)
	r.mu.Unlock()
	if events != 0 {
		t.Fatalf("%d completion events while every answer was lost, want none yet", events)
	}
	r.proxy.heal()
	r.waitDone(ids, 10*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := r.srv.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	r.checkOnce(ids)
}
