// Package postgres is the PostgreSQL backend of jobgen's storage, built on
// github.com/jackc/pgx/v5. It is the backend for many worker processes on
// many machines: every process claims from the same table, and the
// database clock is the clock for run_after, leases and finish times.
//
// # Opening a store
//
// New wraps a *pgxpool.Pool the caller owns; Connect opens (and owns) a
// pool from a DSN:
//
//	store, err := postgres.Connect(ctx, dsn, &postgres.Options{Schema: schema, AutoMigrate: true})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer store.Close()
//	srv, err := runtime.NewServer(store, runtime.Config{})
//
// ExampleConnect runs a whole server on it.
//
// Options.Schema (default "public") and Options.TablePrefix place jobgen's
// tables; both must be plain identifiers and are always quoted. Every
// value in every statement is a bound parameter.
//
// # Migrations
//
// The schema is versioned: numbered SQL files are embedded in the package
// and recorded in a version table (jobgen_schema_version). Store.Migrate
// applies what is missing in one transaction under an advisory lock, so
// concurrent processes may all call it. Connect runs it when
// Options.AutoMigrate is set; otherwise Connect only checks the version
// (Store.CheckSchema), and New never touches the database. A schema never
// migrated or at an older version is refused with an error matching
// storage.ErrSchemaTooOld that says to migrate, one migrated by a newer
// jobgen with an error matching storage.ErrSchemaTooNew.
// Users who run migrations with their own tool take the SQL from
// MigrationSQL (one idempotent script that also records the versions) or
// Migrations (the individual steps).
//
// The jobs table ships with aggressive per-table autovacuum settings,
// since a queue table churns; keep finished jobs short-lived with a
// retention TTL (JobDeleteFinished) all the same.
//
// # Claiming
//
// JobClaim is one statement: it locks up to Limit ready jobs (and running
// jobs whose lease expired) with FOR UPDATE SKIP LOCKED in priority,
// run_after, id order, marks them running with a fresh lease token and
// fails expired jobs that have no attempt left with ErrorCode
// "lease_expired". A second statement in the same round trip and
// transaction reads the clock and the earliest future run_after of the
// queue. No transaction stays open while a handler runs. JobFinish and JobHeartbeat
// write a whole batch in one statement, each row fenced by its lease
// token. A nonzero lease token names one claim of a running job: every
// statement that takes a job out of running sets it to 0, so a finish that
// only updates or only deletes rows is a single statement fenced by the
// token alone. A round that only completes jobs, the common one, has a
// leaner statement still, which sends their output once when all share it
// (jobs without output).
//
// The claim, finish and heartbeat statements each run behind a
// set_config(...) call in the same pipelined round trip that pins their
// plan shape: index scans in claim order, primary-key lookups, no sorts,
// no JIT. A plan chosen from the statistics of an empty or freshly filled
// table would otherwise scan or sort the whole queue on every claim. The
// claim, which joins no tables, and the finish of a single job, which finds
// its row by a parameter, keep one generic plan per connection. The finish
// of many jobs and the heartbeat join their input to the table and are
// planned on every call, because a generic plan made while the table was
// small reads the whole table per statement once it has grown. The index that finds
// the earliest future run_after is keyed on an expression the claim cannot
// use, for the same reason.
//
// # Global rate limits
//
// Store.RateLimiter returns a limit.Limiter whose token bucket lives in the
// database (one row per key), so every process shares one rate. Give it to
// a queue through runtime.QueueConfig.Limiter. Its hold is kept in the same
// row, so a Hold pauses the bucket for every process.
//
// # Notifications
//
// Store implements storage.Notifier with LISTEN/NOTIFY on one channel per
// schema and prefix. Payloads carry only ids and queue names ("i:queue",
// "a:id", "f:id,id,...", "p:id:progress"), never job arguments or results;
// progress payloads are limited to MaxProgressPayload bytes. Inserts
// notify their queue, JobAbort notifies an abort request, JobFinish
// notifies finished jobs (and the queues of jobs back to pending). A
// payload lists up to 350 finished ids instead of one notification per
// job; Subscribe delivers one storage.Notification per id all the same. A
// transaction that sends a NOTIFY takes a database-wide lock at commit and
// holds it while the commit is flushed, so inserts and finishes through
// the store commit without notifying, and the store announces them right
// after, from a statement of its own: one at a time, at least 2 ms apart
// while more wait, each carrying everything that committed since the
// previous one. A
// listener never hears of a row before it is visible. Inserts and
// finishes through WithTx notify inside the statement, so the
// notification goes out at the caller's commit. Subscribe holds one
// dedicated connection outside the pool, checks it after 15 s of silence,
// reconnects with capped backoff and sends storage.NotifyResync after
// every reconnect. Notifications are hints: they are lost while nobody
// listens, so polling and the stored state stay the truth.
//
// # Batched inserts
//
// Single inserts (JobInsert, so every Submit) that arrive while another is
// in flight wait and then go together as one multi-row statement in one
// transaction, so many goroutines submitting one job at a time share
// commits; an insert that finds none in flight runs at once. Before taking
// the next batch the writer yields once, so that callers it has just
// released, who often submit again at once, join that batch instead of
// waiting for the one after. Each caller returns once its own job is
// committed. A caller whose context ends while
// it waits for its batch stores nothing; one whose context ends while its
// batch is being written may find, as with any cancelled statement, that
// the job was stored.
//
// # Outages
//
// A call that cannot reach the server fails with an error matching
// storage.ErrUnavailable, wrapping pgx's: a failed connection attempt, a
// connection broken during the call (reset, end of stream), and the
// server's own errors of a lost connection (SQLSTATE class 08), a shutdown
// or start-up (57P01, 57P02, 57P03) and too many clients (53300). A call
// whose context ends matches the context's error instead. Either way a
// write may have committed before its answer was lost. The store does not
// retry such calls itself; the runtime retries its outcome writes and reads
// back what landed. The process tests crash and restart a server of their
// own; the outage tests put a TCP fault proxy between the runtime and the
// server.
//
// # Transactional submit
//
// Store.WithTx returns a view whose statements run inside the caller's
// pgx.Tx: a job submitted through it exists only if that transaction
// commits, and its notification is delivered at commit, which wakes the
// servers that work its queue, in this process too. Any client submits in
// the transaction when its context carries the view (runtime.InTx), so the
// application's typed clients serve every transaction:
//
//	tx, err := store.Pool().Begin(ctx)
//	...
//	h, err := jobs.SendMessage.Submit(runtime.InTx(ctx, store.WithTx(tx)), example.SendMessage{To: whom, Body: "welcome"}, nil)
//	...
//	if err := tx.Commit(ctx); err != nil {
//
// ExampleStore_WithTx runs it.
//
// # Tests
//
// The tests and benchmarks need a server: set JOBGEN_TEST_POSTGRES to a DSN
// such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Without
// it they skip; with JOBGEN_TEST_POSTGRES_REQUIRED=1 a missing or
// unreachable server fails them instead. Every test store lives in a fresh
// schema of its own that is dropped afterwards. The process tests re-run the
// test binary as worker and submitter processes (selected by
// JOBGEN_TEST_POSTGRES_ROLE) and are skipped with -short. The examples run
// on the same server, each in a schema of its own; when JOBGEN_TEST_POSTGRES
// is unset (and not required) TestMain leaves them out, since an example
// cannot skip itself.
package postgres
