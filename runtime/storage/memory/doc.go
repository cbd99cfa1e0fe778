// Package memory is the in-process storage backend of jobgen: every job
// lives in the memory of one process, behind one mutex.
//
// It suits tests, examples and services whose jobs may be lost: a Store
// is not shared between processes, and everything in it (pending jobs,
// running jobs, results) is gone when the process ends. A job that was
// running when the process died is never run again, so delivery is
// at-most-once across a crash. Use the sqlite or postgres backend when jobs
// must survive a restart.
//
// Within one process it keeps every rule of the storage contract and passes
// the conformance suite in runtime/storage/storagetest. It is also the
// yardstick for the runtime's own overhead, so its claim and finish paths
// are cheap: per queue and kind it keeps the ready jobs in claim order (a
// FIFO for the jobs that arrive in that order, a heap for the rest), a heap
// of deferred jobs by RunAfter and a heap of running jobs by lease expiry;
// jobs are found by ID in a paged array. Claiming and finishing jobs in
// batches costs a few hundred nanoseconds per job.
//
//	store := memory.New()
//	defer store.Close()
//	srv, err := runtime.NewServer(store, runtime.Config{})
//
// ExampleNew shows a whole server on it.
//
// A Store has no notifications. Its Peer method returns another store over
// the same jobs that implements storage.Notifier: a server or detached
// client on a Peer hears what is done through the Store and its other peers
// (inserts, finishes, abort requests, published progress) as it would over
// PostgreSQL, so a test can run a worker and an observer as two processes
// without a database. Closing a Peer ends only its own subscriptions and
// calls; closing the Store drops every job.
//
// The jobs a Store returns are copies, except that their Input and Output
// share memory with the stored job: treat those byte slices as read-only.
// Times are kept to the microsecond, as the database backends keep them,
// and returned in UTC; a Now left zero means time.Now.
package memory
