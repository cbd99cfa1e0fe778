package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Tx is a write transaction of the application on the store's database
// file, begun by Store.Begin. It is a *sql.Tx (the application runs its own
// statements on it, and may hand the embedded Tx to code that takes one)
// whose Jobs view inserts jobs inside it: a job submitted through it with
// runtime.InTx exists only if the transaction commits, and a server in the
// same process is woken at that commit. Commit and Rollback must be called
// on the Tx itself, not on the embedded *sql.Tx: a commit there still
// commits the jobs, but the server then finds them at its next poll.
type Tx struct {
	*sql.Tx
	jobs *Store

	mu    sync.Mutex // the view's calls take turns in the transaction
	ended bool
	hooks []func() // run after a successful Commit
}

// Begin starts a write transaction for the application on the store's
// database file: BEGIN IMMEDIATE on a connection of the store's
// application pool, opened on first use with the store's settings (WAL,
// busy timeout, synchronous mode) and closed by Close. The transaction is
// rolled back if ctx ends before it commits, as database/sql does.
//
// SQLite has one writer at a time: from Begin until Commit or Rollback the
// transaction holds the file's write lock, and every other write — the
// store's claims, heartbeats and outcomes, in every process — waits for
// it, for at most Options.BusyTimeout before failing with storage.ErrBusy.
// Keep the transaction well under that timeout, as any write transaction
// on the file. A transaction of another *sql.DB on the same file cannot be
// used: the store could neither reuse its statements there nor see the
// commit.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	if err := s.check("begin"); err != nil {
		return nil, err
	}
	if s.view != nil {
		return nil, fmt.Errorf("sqlite: begin: %w: already a transaction's view", storage.ErrInvalid)
	}
	app, err := s.appPool()
	if err != nil {
		return nil, err
	}
	sqlTx, err := app.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.mapErr("begin", err)
	}
	t := &Tx{Tx: sqlTx}
	t.jobs = &Store{write: s.write, read: s.read, stmts: app.stmts, view: t}
	return t, nil
}

// Jobs returns the store as seen from inside t: its writes run in t's
// transaction, each in a savepoint of its own, so a call that fails undoes
// only itself, and so do JobGet, JobList and JobAbortRequested, which see
// t's uncommitted jobs; the other reads (queries, counts, queues) see only
// committed ones. Use it with runtime.InTx. Its Close does nothing; it is
// good until t ends.
func (t *Tx) Jobs() *Store { return t.jobs }

// Commit commits the transaction and then runs what AfterCommit arranged
// (the runtime's wake-up of a same-process server).
func (t *Tx) Commit() error {
	t.mu.Lock()
	t.ended = true
	hooks := t.hooks
	t.hooks = nil
	err := t.Tx.Commit()
	t.mu.Unlock()
	if err != nil {
		return err
	}
	for _, fn := range hooks {
		fn()
	}
	return nil
}

// Rollback rolls the transaction back; nothing AfterCommit arranged runs.
func (t *Tx) Rollback() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended = true
	t.hooks = nil
	return t.Tx.Rollback()
}

// AfterCommit implements storage.CommitObserver: on the Jobs view of a Tx
// it calls fn after the Tx commits (through Tx.Commit) and reports true
// while the Tx is open; on the store itself it reports false.
func (s *Store) AfterCommit(fn func()) bool {
	t := s.view
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return false
	}
	t.hooks = append(t.hooks, fn)
	return true
}

// run runs fn, a write call of the view, in the transaction inside a
// savepoint of its own.
func (t *Tx) run(ctx context.Context, s *Store, op string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return fmt.Errorf("sqlite: %s: %w", op, sql.ErrTxDone)
	}
	if _, err := t.ExecContext(ctx, "SAVEPOINT jobgen_call"); err != nil {
		return s.mapErr(op, err)
	}
	if err := fn(ctx, t.Tx); err != nil {
		_, rbErr := t.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO jobgen_call")
		return s.mapErr(op, errors.Join(err, rbErr))
	}
	_, err := t.ExecContext(ctx, "RELEASE jobgen_call")
	return s.mapErr(op, err)
}

// appDB is the store's pool for the application's transactions (Begin),
// with the store's statements prepared on it.
type appDB struct {
	once  sync.Once
	db    *sql.DB
	stmts stmts
	err   error
}

// appPool opens the application pool once, whatever the context of the
// Begin that asks first.
func (s *Store) appPool() (*appDB, error) {
	a := &s.app
	a.once.Do(func() {
		db, err := sql.Open(driverName, s.writeDSN)
		if err == nil {
			err = a.stmts.prepare(context.Background(), db)
			if err != nil {
				a.stmts.close()
				db.Close()
			}
		}
		if err != nil {
			a.err = s.mapErr("begin: open the application pool", err)
			return
		}
		a.db = db
	})
	return a, a.err
}

// close closes the application pool if it was opened.
func (a *appDB) close() error {
	a.once.Do(func() { a.err = storage.ErrClosed }) // none may open after Close
	if a.db == nil {
		return nil
	}
	a.stmts.close()
	return a.db.Close()
}

// querier is what the read calls run on: the read pool, or a view's
// transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader returns what s reads through.
func (s *Store) reader() querier {
	if s.view != nil {
		return s.view.Tx
	}
	return s.read
}
