package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jobgen/jobgen/runtime/storage"
)

// querier is what statements run on: the pool, or a caller's transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// runner runs a Store's job statements, and with that decides who tells
// listeners what they did. The store itself runs them on the pool
// (poolRunner): its statements are pinned and pipelined, single inserts are
// batched, and the announcer sends the notifications after the commit. A
// WithTx view runs them in the caller's transaction (txRunner): they notify
// inside it, so listeners hear at the caller's commit, and the plan
// settings are left alone, since they would outlive the statement there.
// New and WithTx choose the runner; nothing else asks which one it is.
type runner interface {
	querier
	// notifies reports whether the statements send their own
	// notifications; otherwise the store announces them after the commit.
	notifies() bool
	// pinned runs sql pipelined behind pin (pinSQL or pinGenericSQL) and
	// hands the rows to scan, which must close them.
	pinned(ctx context.Context, pin, sql string, args []any, scan func(pgx.Rows) error) error
	// isolate runs body after a statement shared by many entries failed
	// with failed, so that each entry can fail alone: in a transaction of
	// the pool, committed when body returns nil, in which step runs each
	// function in a savepoint of its own (a function that fails is rolled
	// back alone, and step returns its error). Through a WithTx view it
	// returns failed: that statement has aborted the caller's transaction.
	isolate(ctx context.Context, failed error, body func(step func(func(querier) error) error) error) error
	// insert inserts one job, which passed checkInserts.
	insert(ctx context.Context, p *storage.JobInsertParams) (*storage.JobInsertResult, error)
	// claim runs the claim and its peek once (see JobClaim).
	claim(ctx context.Context, p *storage.JobClaimParams) (*storage.JobClaimResult, error)
	// insertClaim inserts a job that passed checkInserts and claims with
	// valid parameters (see JobInsertClaim).
	insertClaim(ctx context.Context, i *storage.JobInsertParams, c *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error)
}

// poolRunner runs the statements of the store s itself on its pool.
type poolRunner struct {
	*pgxpool.Pool
	s *Store
}

// txRunner runs the statements of the WithTx view s in the caller's
// transaction.
type txRunner struct {
	pgx.Tx
	s *Store
}

func (poolRunner) notifies() bool { return false }
func (txRunner) notifies() bool   { return true }

// announce hands the announcer what a committed statement did (the queues
// with jobs newly pending, the ids of jobs that reached a terminal state),
// unless the statement notified of it itself.
func (s *Store) announce(queues []string, finished []int64) {
	if !s.run.notifies() {
		s.announcer.announce(s, queues, finished)
	}
}

// pinned sends pin and sql in one round trip and one implicit transaction.
func (r poolRunner) pinned(ctx context.Context, pin, sql string, args []any, scan func(pgx.Rows) error) error {
	return r.batch(ctx, pin, func(b *pgx.Batch) { b.Queue(sql, args...) }, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		return scan(rows)
	})
}

// pinned leaves the settings alone and sends sql unnamed, so it is planned
// for its actual parameters.
func (r txRunner) pinned(ctx context.Context, _, sql string, args []any, scan func(pgx.Rows) error) error {
	rows, err := r.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return err
	}
	return scan(rows)
}

// batch sends pin and the statements queue adds in one round trip and one
// implicit transaction of the pool, and hands their results to read.
func (r poolRunner) batch(ctx context.Context, pin string, queue func(*pgx.Batch), read func(pgx.BatchResults) error) error {
	b := &pgx.Batch{}
	b.Queue(pin)
	queue(b)
	br := r.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return err
	}
	if err := read(br); err != nil {
		return err
	}
	return br.Close()
}

func (r poolRunner) isolate(ctx context.Context, _ error, body func(step func(func(querier) error) error) error) error {
	tx, err := r.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	step := func(f func(querier) error) error {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		if err := f(sp); err != nil {
			if rbErr := sp.Rollback(ctx); rbErr != nil {
				return rbErr
			}
			return err
		}
		return sp.Commit(ctx)
	}
	if err := body(step); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (txRunner) isolate(_ context.Context, failed error, _ func(step func(func(querier) error) error) error) error {
	return failed
}
