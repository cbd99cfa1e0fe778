package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jobgen/jobgen/runtime/storage"
)

var (
	_ storage.Storage       = (*Store)(nil)
	_ storage.Notifier      = (*Store)(nil)
	_ storage.InsertClaimer = (*Store)(nil)
)

// Options configures a Store. The zero value (or nil) is valid.
type Options struct {
	// Schema holds jobgen's tables. Defaults to "public". It must match
	// ^[a-zA-Z_][a-zA-Z0-9_]{0,62}$ and is created by Migrate when missing.
	Schema string
	// TablePrefix is put in front of every table, sequence and index name
	// jobgen creates, so several independent job stores can share one
	// schema. Empty by default. It must match ^[a-zA-Z_][a-zA-Z0-9_]{0,39}$.
	TablePrefix string
	// AutoMigrate makes Connect run Migrate before it returns. Without it,
	// Connect only checks that the schema is at the version this jobgen
	// works with (see Store.CheckSchema). New never touches the database.
	AutoMigrate bool
}

// Store is the PostgreSQL backend of jobgen's storage. It is safe for
// concurrent use by many goroutines and many processes.
type Store struct {
	pool *pgxpool.Pool
	// run runs the job statements: on the pool for the store itself, in
	// the caller's transaction for a WithTx view (see runner).
	run runner
	// root is the store that owns the closed flag and the subscriptions;
	// the store itself unless this is a WithTx view.
	root    *Store
	ownPool bool
	n       *names
	q       *queries
	closed  atomic.Bool
	// subs tracks the listener goroutines, so Close can end them.
	subsMu sync.Mutex
	subs   map[*subscription]struct{}
	subsWG sync.WaitGroup
	// announcer notifies of the store's inserts and finishes after they commit.
	announcer announcer
	// inserts batches concurrent single inserts.
	inserts insertBatcher
	// floors are where the store's claims start their scans (floors.go);
	// a WithTx view's are its store's. sweeps are the sweep's.
	floors *claimFloors
	sweeps *sweepFloors
}

// New returns a Store over pool, which stays the caller's: Close does not
// close it. New does not touch the database, so it checks nothing: run
// Migrate (or apply MigrationSQL with your own tool) before using the
// store, and CheckSchema to have a wrong schema refused at start-up.
func New(pool *pgxpool.Pool, opts *Options) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", storage.ErrInvalid)
	}
	n, err := newNames(opts)
	if err != nil {
		return nil, err
	}
	st := &Store{pool: pool, n: n, q: newQueries(n), subs: make(map[*subscription]struct{})}
	st.root = st
	st.floors, st.sweeps = new(claimFloors), new(sweepFloors)
	st.run = poolRunner{Pool: pool, s: st}
	st.inserts.init()
	return st, nil
}

// Connect opens a pool for dsn (a PostgreSQL URL or key=value string, see
// pgxpool.ParseConfig) and returns a Store that owns it: Close closes the
// pool. With opts.AutoMigrate it migrates the schema; otherwise it fails
// unless the schema is at the version this jobgen works with (see
// Store.CheckSchema): one never migrated, or migrated by an older or a
// newer jobgen, is refused.
func Connect(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s, err := New(pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	if opts != nil && opts.AutoMigrate {
		err = s.Migrate(ctx)
	} else {
		err = s.CheckSchema(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Pool returns the pool the store runs on.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close ends every subscription and, when the store was made by Connect,
// closes its pool. Calls after Close fail with storage.ErrClosed. Close is
// idempotent.
func (s *Store) Close() error {
	if s.root != s {
		return nil // a WithTx view
	}
	if s.closed.Swap(true) {
		return nil
	}
	s.subsMu.Lock()
	for sub := range s.subs {
		sub.cancel()
	}
	s.subsMu.Unlock()
	s.subsWG.Wait()
	s.floors.close()
	s.inserts.close()
	s.announcer.close()
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// check returns storage.ErrClosed after Close.
func (s *Store) check() error {
	if s.root.closed.Load() {
		return storage.ErrClosed
	}
	return nil
}

// checkParams is check, then p's validation, whose error it wraps with op.
func (s *Store) checkParams(op string, p interface{ Validate() error }) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return nil
}
