// Package runtimetest is the runtime behaviour suite: it proves the rules of
// the fetch loop, abort, drain-on-stop, retries, events and progress
// against any storage backend. Every backend's tests call Run with the
// storagetest.Backend they give the conformance suite, so a rule is
// written here once and holds for memory, SQLite and PostgreSQL alike.
//
//	func TestRuntime(t *testing.T) { runtimetest.Run(t, backend) }
//
// Run runs every test with the store's notifications hidden, so the
// runtime polls, and again with them when the backend has them. The
// cross-process tests run a worker server on one store and a second server
// or a detached client on another over the same jobs (Backend.Open): a
// submit waking the worker, WaitFor, progress and abort across processes.
// With notifications their poll intervals are a minute, so only
// notifications can carry those inside the suite's deadline.
package runtimetest
