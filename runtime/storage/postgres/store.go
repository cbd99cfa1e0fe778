package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	// Connect only checks that the database is not newer than this
	// version of jobgen. New never touches the database.
	AutoMigrate bool
}

var identRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,62}$`)

// maxPrefixLen keeps every derived name within PostgreSQL's 63-byte limit.
const maxPrefixLen = 40

// names holds the quoted, schema-qualified names of everything jobgen
// creates, derived once from the validated options.
type names struct {
	schema   string // raw schema name
	prefix   string // raw table prefix
	qschema  string // quoted schema
	jobs     string // quoted, qualified jobs table
	leaseSeq string // quoted, qualified lease token sequence
	idSeq    string // quoted, qualified job id sequence
	version  string // quoted, qualified schema version table
	buckets  string // quoted, qualified rate limit bucket table
	channel  string // LISTEN/NOTIFY channel (raw; quoted for LISTEN)
	lockKey  int64  // advisory lock key that serialises migrations
}

func newNames(opts *Options) (*names, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = "public"
	}
	if !identRE.MatchString(o.Schema) {
		return nil, fmt.Errorf("%w: schema %q: want an identifier matching %s", storage.ErrInvalid, o.Schema, identRE)
	}
	if o.TablePrefix != "" && (len(o.TablePrefix) > maxPrefixLen || !identRE.MatchString(o.TablePrefix)) {
		return nil, fmt.Errorf("%w: table prefix %q: want at most %d letters, digits or underscores, not starting with a digit",
			storage.ErrInvalid, o.TablePrefix, maxPrefixLen)
	}
	q := func(name string) string { return pgx.Identifier{o.Schema, o.TablePrefix + name}.Sanitize() }
	n := &names{
		schema:   o.Schema,
		prefix:   o.TablePrefix,
		qschema:  pgx.Identifier{o.Schema}.Sanitize(),
		jobs:     q("jobgen_jobs"),
		leaseSeq: q("jobgen_lease_token_seq"),
		idSeq:    q("jobgen_jobs_id_seq"),
		version:  q("jobgen_schema_version"),
		buckets:  q("jobgen_rate_buckets"),
	}
	sum := sha256.Sum256([]byte(o.Schema + "." + o.TablePrefix))
	n.channel = "jobgen_" + hex.EncodeToString(sum[:12])
	var key int64
	for _, b := range sum[12:20] {
		key = key<<8 | int64(b)
	}
	n.lockKey = key
	return n, nil
}

// render replaces the {placeholders} of a migration or query with quoted names.
func (n *names) render(sql string) string {
	idx := func(name string) string { return pgx.Identifier{n.prefix + "jobgen_jobs_" + name}.Sanitize() }
	return strings.NewReplacer(
		"{schema}", n.qschema,
		"{jobs}", n.jobs,
		"{lease_seq_lit}", n.leaseSeq,
		"{id_seq_lit}", n.idSeq,
		"{lease_seq}", n.leaseSeq,
		"{id_seq}", n.idSeq,
		"{version}", n.version,
		"{buckets}", n.buckets,
		"{idx_pending}", idx("pending"),
		"{idx_pending_run_after}", idx("pending_run_after"),
		"{idx_running_lease}", idx("running_lease"),
		"{idx_unique}", idx("unique_key"),
		"{idx_finished}", idx("finished"),
	).Replace(sql)
}

// querier is what the job statements run on: the pool, or a caller's
// transaction (WithTx).
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store is the PostgreSQL backend of jobgen's storage. It is safe for
// concurrent use by many goroutines and many processes.
type Store struct {
	pool *pgxpool.Pool
	// db runs the job statements: the pool, or a transaction (WithTx).
	db querier
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
}

// New returns a Store over pool, which stays the caller's: Close does not
// close it. New does not touch the database; run Migrate (or apply
// MigrationSQL with your own tool) before using the store.
func New(pool *pgxpool.Pool, opts *Options) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", storage.ErrInvalid)
	}
	n, err := newNames(opts)
	if err != nil {
		return nil, err
	}
	st := &Store{pool: pool, db: pool, n: n, q: newQueries(n), subs: make(map[*subscription]struct{})}
	st.root = st
	st.inserts.init()
	return st, nil
}

// Connect opens a pool for dsn (a PostgreSQL URL or key=value string, see
// pgxpool.ParseConfig) and returns a Store that owns it: Close closes the
// pool. With opts.AutoMigrate it migrates the schema; otherwise it checks
// that the schema is not newer than this version of jobgen.
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
		_, err = s.checkVersion(ctx, s.pool)
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

// translate turns driver errors into the storage sentinels, wrapping them
// with what the store was doing. It is the only place that does so.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrNotFound)
	case isClosedPool(err):
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrClosed)
	case errors.Is(err, storage.ErrClosed), errors.Is(err, storage.ErrNotFound),
		errors.Is(err, storage.ErrInvalid), errors.Is(err, storage.ErrSchemaTooNew):
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "55P03": // lock_not_available
			return fmt.Errorf("postgres: %s: %w: %w", op, storage.ErrBusy, err)
		case "42P01": // undefined_table
			return fmt.Errorf("postgres: %s (is the schema migrated? see Store.Migrate): %w", op, err)
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// isClosedPool recognises the error of a pool that was closed: pgxpool
// reports it with a plain error value of its pool library.
func isClosedPool(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "closed pool" {
			return true
		}
	}
	return false
}

// retryable reports errors after which a fenced, idempotent statement may
// simply be run again: deadlocks and serialization failures roll the whole
// statement back.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40P01" || pgErr.Code == "40001"
	}
	return false
}
