// Package runtimetest is the runtime behaviour suite: it proves the rules of
// the fetch loop, abort, drain-on-stop, retries, events and progress
// against any storage backend. Every backend's tests call Run with a
// factory of fresh stores, so a rule is written here once and holds for
// memory, SQLite and PostgreSQL alike.
//
//	func TestRuntime(t *testing.T) {
//		runtimetest.Run(t, func(t *testing.T) storage.Storage { return memory.New() })
//	}
package runtimetest
