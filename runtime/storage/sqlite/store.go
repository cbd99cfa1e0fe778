package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Defaults of Options.
const (
	// DefaultBusyTimeout is how long a statement waits for another
	// connection's lock before it fails with storage.ErrBusy.
	DefaultBusyTimeout = 5 * time.Second
	// DefaultReadConns is the size of the read pool.
	DefaultReadConns = 4
)

// Options tunes a Store. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection or process before it fails with an error matching
	// storage.ErrBusy. Defaults to DefaultBusyTimeout (5s).
	BusyTimeout time.Duration

	// ReadConns is the number of connections that serve JobGet and JobList.
	// Defaults to DefaultReadConns (4).
	ReadConns int

	// FullSync makes every commit durable against power loss and operating
	// system crashes (PRAGMA synchronous=FULL), at the cost of one fsync per
	// transaction. By default the store runs synchronous=NORMAL: a commit
	// survives any crash of the application, but the last commits before a
	// power loss or kernel crash may be rolled back.
	FullSync bool

	// AllowNetworkFilesystem opens a database file that is on a network
	// filesystem (NFS, SMB/CIFS, 9p, Ceph and others; detected on Linux),
	// which Open otherwise refuses: SQLite's WAL mode keeps its index in
	// shared memory and relies on file locks, which work only between
	// processes of one host on a local filesystem, so a database shared
	// that way can be corrupted. Set it only when a single host ever opens
	// the file. To share jobs between hosts, use the PostgreSQL backend.
	AllowNetworkFilesystem bool
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.BusyTimeout <= 0 {
		r.BusyTimeout = DefaultBusyTimeout
	}
	if r.ReadConns <= 0 {
		r.ReadConns = DefaultReadConns
	}
	return r
}

// Store is a storage.Storage kept in one SQLite database file. It writes
// through a single connection (SQLite allows one writer at a time, and a
// single connection makes that explicit instead of a source of
// SQLITE_BUSY), committing concurrent calls together, and reads through a
// small pool. It is safe for concurrent use by many goroutines, and several
// processes on one host may open the same file.
type Store struct {
	write *sql.DB // exactly one connection; every transaction is BEGIN IMMEDIATE
	read  *sql.DB // query_only connections for JobGet and JobList

	stmts stmts
	w     writer

	writeDSN string // opens the application pool (see Begin)
	app      appDB
	// view is the transaction of the Jobs view of a Tx (nil for the
	// store itself): its calls run in it (see Tx.Jobs).
	view *Tx

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var (
	_ storage.Storage       = (*Store)(nil)
	_ storage.InsertClaimer = (*Store)(nil)
)

// driverName is go-sqlite3 with a connect hook that caps the WAL file
// (registered in driver.go).
const driverName = "jobgen-sqlite3"

// walFileLimit is the size the WAL file is cut back to after SQLite
// restarts the log (PRAGMA journal_size_limit); without it the file keeps
// its largest size for good.
const walFileLimit = 16 << 20

// Open opens (creating it if needed) the SQLite database at path, applies
// the schema migrations this version knows, and returns a Store. It fails
// with an error matching storage.ErrSchemaTooNew when the file was migrated
// by a newer version of jobgen.
func Open(path string, opts *Options) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: open: %w: empty path", storage.ErrInvalid)
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: %w: want a file path (use OpenDSN for URIs)", path, storage.ErrInvalid)
	}
	return OpenDSN("file:"+escapePath(path), opts)
}

// networkFilesystemOf is networkFilesystem; tests replace it.
var networkFilesystemOf = networkFilesystem

// checkLocalFilesystem refuses a database file, named by the part of a DSN
// before its query, whose directory is on a network filesystem.
func checkLocalFilesystem(base string) error {
	path, err := url.PathUnescape(strings.TrimPrefix(base, "file:"))
	if err != nil || path == "" {
		return nil // the driver reports what is wrong with the name
	}
	if fs := networkFilesystemOf(filepath.Dir(path)); fs != "" {
		return fmt.Errorf("sqlite: open %s: %w: the file is on a network filesystem (%s), where SQLite's WAL mode can corrupt the database; "+
			"use a local path, or the PostgreSQL backend to share jobs between hosts (Options.AllowNetworkFilesystem overrides this)", path, storage.ErrInvalid, fs)
	}
	return nil
}

// escapePath escapes the characters a SQLite URI gives meaning to.
func escapePath(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(path)
}

// OpenDSN opens the database named by a go-sqlite3 data source name, such
// as "file:jobs.db?cache=private". The store adds the settings it relies on
// (WAL, busy timeout, synchronous, foreign keys, immediate transactions,
// read-only readers) to the ones given; do not set those yourself. The DSN
// must name a file: the writer and the readers are separate connections, so
// an in-memory database would not be shared between them.
func OpenDSN(dsn string, opts *Options) (*Store, error) {
	if err := driverMissing(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	base, query, _ := strings.Cut(dsn, "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w: bad DSN query: %v", storage.ErrInvalid, err)
	}
	if !o.AllowNetworkFilesystem {
		if err := checkLocalFilesystem(base); err != nil {
			return nil, err
		}
	}
	busy := strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10)
	if o.BusyTimeout > 0 && o.BusyTimeout < time.Millisecond {
		busy = "1"
	}
	syncMode := "NORMAL"
	if o.FullSync {
		syncMode = "FULL"
	}

	wp := cloneValues(params)
	wp.Set("_journal_mode", "WAL")
	wp.Set("_busy_timeout", busy)
	wp.Set("_synchronous", syncMode)
	wp.Set("_foreign_keys", "on")
	wp.Set("_txlock", "immediate")
	wp.Set("_cache_size", "-65536")
	write, err := sql.Open(driverName, base+"?"+wp.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	s := &Store{write: write, writeDSN: base + "?" + wp.Encode()}
	s.w.start(write)
	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		s.w.stop()
		write.Close()
		return nil, err
	}

	rp := cloneValues(params)
	rp.Set("_busy_timeout", busy)
	rp.Set("_synchronous", syncMode)
	rp.Set("_foreign_keys", "on")
	rp.Set("_query_only", "on")
	read, err := sql.Open(driverName, base+"?"+rp.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	read.SetMaxOpenConns(o.ReadConns)
	read.SetMaxIdleConns(o.ReadConns)
	read.SetConnMaxIdleTime(time.Minute)
	if err := read.PingContext(ctx); err != nil {
		s.w.stop()
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	s.read = read

	if err := s.stmts.prepare(ctx, write); err != nil {
		s.w.stop()
		s.stmts.close()
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	return s, nil
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v)+6)
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Close closes the store's connections. Calls after Close fail with an
// error matching storage.ErrClosed. Close is idempotent. On the Jobs view
// of a Tx it does nothing.
func (s *Store) Close() error {
	if s.view != nil {
		return nil
	}
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.w.stop()
		s.stmts.close()
		err := s.write.Close()
		if rerr := s.read.Close(); err == nil {
			err = rerr
		}
		if aerr := s.app.close(); err == nil {
			err = aerr
		}
		if err != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return s.closeErr
}

// check returns ErrClosed, wrapped with op, after Close.
func (s *Store) check(op string) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: %s: %w", op, storage.ErrClosed)
	}
	return nil
}

// mapErr is the single place that turns driver errors into the storage
// sentinels, wrapped with what the store was doing.
func (s *Store) mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrClosed),
		errors.Is(err, storage.ErrBusy), errors.Is(err, storage.ErrInvalid),
		errors.Is(err, storage.ErrSchemaTooNew), errors.Is(err, storage.ErrUnavailable):
		return fmt.Errorf("sqlite: %s: %w", op, err)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, storage.ErrNotFound)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if isLocked(err) {
		return fmt.Errorf("sqlite: %s: %w: database locked by another connection past the busy timeout: %w", op, storage.ErrBusy, err)
	}
	if isUnavailable(err) {
		return fmt.Errorf("sqlite: %s: %w: %w", op, storage.ErrUnavailable, err)
	}
	if s.closed.Load() || errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "sql: database is closed") {
		return fmt.Errorf("sqlite: %s: %w", op, storage.ErrClosed)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// clock returns now, or the current time when now is zero, in UTC truncated
// to the microseconds the store keeps.
func clock(now time.Time) time.Time {
	if now.IsZero() {
		now = time.Now()
	}
	return now.UTC().Truncate(time.Microsecond)
}

// micros is t as stored: unix microseconds, or NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}
