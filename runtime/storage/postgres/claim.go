package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobClaim claims up to p.Limit ready jobs in one statement (see claimSQL),
// with its plan pinned (see pinGenericSQL), and reads the clock and the
// next run_after behind it in the same round trip and transaction.
func (s *Store) JobClaim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	if err := s.checkParams("claim", p); err != nil {
		return nil, err
	}
	var res *storage.JobClaimResult
	err := retry(ctx, func() (err error) {
		res, err = s.run.claim(ctx, p)
		return err
	})
	if err != nil {
		return nil, translate("claim", err)
	}
	return res, nil
}

// claim sends the pin, the claim and its peek in one round trip, with the
// store's claim floors (see floors.go).
func (r poolRunner) claim(ctx context.Context, p *storage.JobClaimParams) (res *storage.JobClaimResult, err error) {
	pl := r.s.plan(p)
	err = r.batch(ctx, pinGenericSQL, func(b *pgx.Batch) { r.s.queueClaim(b, p, pl) }, func(br pgx.BatchResults) (err error) {
		res, err = readBatchClaim(br, p, pl)
		return err
	})
	return res, err
}

// claim runs the claim and then its peek in the caller's transaction, both
// planned for their actual parameters. It scans every priority from the
// front and rescues: a transaction's snapshot may be older than the
// store's floors.
func (r txRunner) claim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error) {
	pl := fullPlan(p.Limit)
	args := append([]any{pgx.QueryExecModeExec}, r.s.claimArgs(p, pl)...)
	rows, err := r.Query(ctx, r.s.q.claim, args...)
	if err != nil {
		return nil, err
	}
	return readClaim(rows, p, pl, func() pgx.Row { return r.QueryRow(ctx, r.s.q.claimPeek, args[:4]...) })
}

// plan returns the plan of the store's next claim of p, and starts the
// probe of its floors it asks for.
func (s *Store) plan(p *storage.JobClaimParams) *claimPlan {
	pl := s.floors.plan(p)
	if pl.probe {
		go s.probe(pl, *p)
	}
	return pl
}

// probeTimeout bounds a probe of the floors.
const probeTimeout = 30 * time.Second

// probe runs the probes of plan pl's floors for claim p in one round trip
// of their own (see floors.go), and lowers the floors to what they find.
// A probe that fails leaves the floors alone; the next one is due after
// probeMin.
func (s *Store) probe(pl *claimPlan, p storage.JobClaimParams) {
	defer s.floors.probes.Done()
	start := time.Now()
	var (
		first   []claimedKey
		expired pgtype.Timestamptz
	)
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	args := []any{ts(p.Now), p.Queue, p.Kinds}
	err := poolRunner{Pool: s.pool, s: s.root}.batch(ctx, pinGenericSQL, func(b *pgx.Batch) {
		b.Queue(s.q.probePending, append(args, pl.singles())...)
		b.Queue(s.q.probeExpired, args...)
	}, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			var k claimedKey
			if err := rows.Scan(&k.priority, &k.runAfter, &k.id); err != nil {
				rows.Close()
				return err
			}
			k.runAfter = k.runAfter.UTC()
			first = append(first, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return br.QueryRow().Scan(&expired)
	})
	if err != nil {
		first, expired = nil, pgtype.Timestamptz{}
	}
	s.floors.probed(pl.floor, first, timestamptz(expired), time.Since(start))
}

// claimArgs are the arguments of claimSQL for plan pl; the first three are
// those of claimPeekSQL.
func (s *Store) claimArgs(p *storage.JobClaimParams, pl *claimPlan) []any {
	return []any{ts(p.Now), p.Queue, p.Kinds, int64(p.Limit), micros(p.LeaseDuration), s.n.channel,
		pl.lo, pl.hi, pl.runAfter, pl.ids, pl.rescue, pl.rescueFrom}
}

// queueClaim queues the claim of plan pl and its peek on b;
// readBatchClaim reads them.
func (s *Store) queueClaim(b *pgx.Batch, p *storage.JobClaimParams, pl *claimPlan) {
	args := s.claimArgs(p, pl)
	b.Queue(s.q.claim, args...)
	b.Queue(s.q.claimPeek, args[:3]...)
}

// readBatchClaim reads the claim and peek that queueClaim queued.
func readBatchClaim(br pgx.BatchResults, p *storage.JobClaimParams, pl *claimPlan) (*storage.JobClaimResult, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return readClaim(rows, p, pl, br.QueryRow)
}

// readClaim reads the claimed jobs from rows, which it closes, then the
// clock and next run_after from the row peek returns, puts the jobs in
// claim order and raises the plan's floors.
func readClaim(rows pgx.Rows, p *storage.JobClaimParams, pl *claimPlan, peek func() pgx.Row) (*storage.JobClaimResult, error) {
	var claimed []claimedRow
	c := newClaimScanner(p)
	for rows.Next() {
		r, err := c.scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		claimed = append(claimed, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var (
		now    time.Time
		next   pgtype.Timestamptz
		paused bool
	)
	if err := peek().Scan(&now, &next, &paused); err != nil {
		return nil, err
	}
	slices.SortFunc(claimed, func(a, b claimedRow) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), a.job.RunAfter.Compare(b.job.RunAfter), cmp.Compare(a.job.ID, b.job.ID))
	})
	res := &storage.JobClaimResult{Now: now.UTC(), NextRunAfter: timestamptz(next), Jobs: make([]*storage.ClaimedJob, len(claimed))}
	keys := make([]claimedKey, len(claimed))
	for i, r := range claimed {
		res.Jobs[i] = r.job
		keys[i] = claimedKey{priority: int32(r.priority), runAfter: r.job.RunAfter, id: r.job.ID}
	}
	if !paused {
		pl.done(keys, res.Now)
	}
	return res, nil
}

// claimedRow is one row of claimColumns: a claimed job and its place in
// claim order.
type claimedRow struct {
	job      *storage.ClaimedJob
	priority int
}

// claimScanner reads rows of claimColumns. Its scan targets are reused
// from row to row, and kind and queue names that are among the claim's own
// parameters are shared rather than copied, so a row costs the
// allocations of its job and its input only: the claim is the hottest read.
type claimScanner struct {
	names              []string // the claim's kinds and queue
	job                storage.ClaimedJob
	kind, queue        sharedName
	leaseExp, deadline pgtype.Timestamptz
	createdAt          time.Time
	timeoutNS          int64
	priority           int
	runAfter           time.Time
	targets            []any
}

func newClaimScanner(p *storage.JobClaimParams) *claimScanner {
	c := &claimScanner{names: slices.Concat(p.Kinds, []string{p.Queue})}
	c.kind = sharedName{dst: &c.job.Kind, names: c.names}
	c.queue = sharedName{dst: &c.job.Queue, names: c.names}
	c.targets = []any{&c.job.ID, &c.kind, &c.queue, &c.job.Input, &c.job.Attempt, &c.job.MaxAttempts, &c.job.LeaseToken,
		&c.leaseExp, &c.deadline, &c.timeoutNS, &c.createdAt, metadataColumn{&c.job.Metadata}, &c.priority, &c.runAfter}
	return c
}

// scan reads one row.
func (c *claimScanner) scan(rows pgx.Rows) (claimedRow, error) {
	c.job.Input = nil // the previous row's job keeps its input; scan into a new one
	if err := rows.Scan(c.targets...); err != nil {
		return claimedRow{}, err
	}
	j := c.job
	j.LeaseExpiresAt = timestamptz(c.leaseExp)
	j.Deadline = timestamptz(c.deadline)
	j.Timeout = time.Duration(c.timeoutNS)
	j.CreatedAt = c.createdAt.UTC()
	j.RunAfter = c.runAfter.UTC()
	return claimedRow{job: &j, priority: c.priority}, nil
}

// sharedName scans a text column into *dst: the string of names equal to
// the column's value when there is one, otherwise a copy of the value.
type sharedName struct {
	dst   *string
	names []string
}

// ScanBytes implements pgtype.BytesScanner; v is valid only during the call.
func (n *sharedName) ScanBytes(v []byte) error {
	for _, name := range n.names {
		if string(v) == name {
			*n.dst = name
			return nil
		}
	}
	*n.dst = string(v)
	return nil
}
