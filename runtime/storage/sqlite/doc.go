// Package sqlite is the embedded storage backend of jobgen: a
// storage.Storage kept in one SQLite database file, through
// github.com/mattn/go-sqlite3.
//
// # Opening
//
//	store, err := sqlite.Open(filepath.Join(dir, "jobs.db"), nil)
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer store.Close()
//	srv, err := runtime.NewServer(store, runtime.Config{})
//
// The package's Example runs a whole server on it. Options tune the store,
// such as &sqlite.Options{BusyTimeout: 10 * time.Second} for a file that
// other processes write to as well.
//
// Open creates the file if needed and applies the embedded, versioned schema
// migrations in one transaction. A file migrated by a newer jobgen is
// refused with an error matching storage.ErrSchemaTooNew. OpenDSN takes a
// go-sqlite3 data source name for advanced settings; the store adds the
// settings below to it.
//
// The store keeps its tables (jobgen_jobs, jobgen_meta, jobgen_schema) next
// to any of the application's own, so one file may hold both.
//
// # How it uses SQLite
//
// The database runs in WAL mode, so readers never block the writer. All
// writes go through one connection and every write transaction starts with
// BEGIN IMMEDIATE (the DSN's _txlock=immediate): it takes the write lock
// at the start, and while another connection or process holds it the
// transaction waits up to Options.BusyTimeout (5s by default) instead of
// failing at once. Past that timeout the call fails with an error matching
// storage.ErrBusy; it changed nothing and may be retried. A database file
// or disk that fails (SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_FULL) gives an
// error matching storage.ErrUnavailable. JobGet and JobList read through a
// separate pool of query-only connections.
//
// SQLite checkpoints the WAL into the database file as it goes. A reader
// that keeps one read transaction open for long (a stuck dashboard query in
// another process) holds the log back, so it grows until that reader lets
// go; afterwards the file is cut back to 16 MiB (PRAGMA journal_size_limit).
//
// Each call is atomic: a claim, a batch of finishes, a heartbeat or a batch
// of inserts commits whole or not at all. Calls that arrive while a
// transaction is running are committed together in the next one (group
// commit), each inside its own savepoint so one call's failure does not
// undo another's; under load this pays the fixed cost of a transaction
// once for many calls. After each transaction the writer yields once, so
// that callers it has just answered, who often write again at once, join
// the next one. Lease tokens come from a counter in the database, so
// every claim's token is new even across processes.
//
// Times are stored as INTEGER unix microseconds; the store returns UTC times
// truncated to microseconds. The clock is the process's clock unless a call
// passes Now.
//
// # Transactional submit
//
// Store.Begin starts a write transaction of the application on the store's
// file (BEGIN IMMEDIATE, on a pool of its own with the store's settings).
// The application writes its own tables through the Tx, which is a
// *sql.Tx, and submits jobs in it through any runtime client with
// runtime.InTx(ctx, tx.Jobs()): they exist only if Tx.Commit commits, and
// the commit wakes a server of this process that works their queue.
// SQLite has one writer: while the transaction is open every other write
// to the file, the store's own included, waits for it up to BusyTimeout,
// so keep it short. A transaction of another *sql.DB cannot carry jobs:
// the store would neither see its commit nor share its statements.
//
// # Durability
//
// By default the store runs PRAGMA synchronous=NORMAL, the usual choice with
// WAL: a committed transaction survives any crash or kill of the
// application, but the last transactions before a power loss or an
// operating system crash may be rolled back (the database stays
// consistent). A job acknowledged just before such a crash may then be
// missing, or may run again. Options.FullSync switches to
// synchronous=FULL, which syncs the log on every commit and survives power
// loss too, at the cost of one fsync per transaction.
//
// # Several processes
//
// Several processes on one host may open the same file: SQLite's locks
// serialize their writes and the lease rules keep each job in one process's
// hands. The file must be on a local filesystem; WAL needs shared memory
// between the processes and does not work on a network filesystem, so on
// Linux Open refuses a file on NFS, SMB/CIFS, 9p, Ceph and the like with
// storage.ErrInvalid (Options.AllowNetworkFilesystem overrides it). SQLite
// cannot notify other processes, so a server learns about jobs submitted
// by another process (and about aborts requested by another process) by
// polling: set the server's PollInterval to the pickup delay you accept,
// knowing that each poll is one claim transaction per queue. While jobs
// run, the server also reads their abort requests once per PollInterval
// (JobAbortRequested, one query on the read pool that never waits for the
// writer), so an abort made in another process cancels its job within
// about one PollInterval; a detached client waiting for the job sees the
// outcome at its own next poll.
//
// Progress reports do not cross processes on SQLite: a handler's reports
// reach the observers of its own process only, and a detached client in
// another process sees none (WaitFor and the job's state work as
// everywhere). Carrying them would mean writing them to the file, and
// every write takes the one write lock that claims, heartbeats and
// outcomes of every process queue for; progress is the chattiest thing a
// job does, and a hint, so it is not worth delaying them for.
//
// Processes take turns at the write lock through SQLite's busy handler,
// which retries after growing sleeps and is not fair: a process that writes
// back to back can keep another waiting for a while. Keep the server's
// LeaseDuration well above the longest write you expect to wait for, or
// heartbeats that arrive late lose leases their jobs still hold.
//
// # Building
//
// go-sqlite3 is a cgo package: building needs a C compiler (gcc or clang)
// and CGO_ENABLED=1. The first build compiles SQLite itself and takes about a
// minute; later builds are cached. A program built with CGO_ENABLED=0 still
// compiles with this package, but Open and OpenDSN return an error that says
// so; the memory and postgres backends need no cgo.
package sqlite
