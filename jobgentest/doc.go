// Package jobgentest helps test code that uses jobgen's generated kinds:
// run one job of a kind through the runtime's own path and look at its
// typed output and outcome (Run), check what was submitted to a storage or
// a transaction's view of it (RequireSubmitted and friends), and move time
// by hand for deferred jobs and retries (NewClock).
//
// Run needs no storage and no server: it calls the handler on the test's
// goroutine, as a server's worker would (input encoded and decoded, the
// kind's timeout, panic recovery, the worker's classification of the
// return), so a handler may call t.Fatal. The submit assertions read any
// backend through storage.Storage: a store, or a transaction's view such
// as postgres.Store.WithTx(tx), which sees the jobs of that transaction
// before it commits.
package jobgentest
