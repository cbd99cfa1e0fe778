// Package storagetest is the conformance suite of the storage contract:
// every rule that runtime/storage states for backends, written as tests.
// Every backend runs all of it, unchanged, from a few lines in its own
// tests:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Storage {
//			s := memory.New()
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite speaks only through the storage.Storage interface, and through
// storage.InsertClaimer where a backend implements it (its tests are skipped
// otherwise). What it asks
// of a backend beyond the interface:
//
//   - newStore returns a fresh, empty store on every call and registers its
//     own cleanup with t.Cleanup. Every test calls t.Parallel and gets its
//     own store, so stores must be independent of each other (the
//     PostgreSQL backend gives each one its own schema).
//   - Close may be called twice: the Close test closes its store and the
//     cleanup closes it again. The second call returns nil or an error
//     matching storage.ErrClosed.
//   - Times keep at least microsecond precision. The suite passes Now
//     explicitly everywhere, from a fixed base time in UTC with a fractional
//     second, and compares times after truncating them to the microsecond.
//     A backend must use a given Now instead of its own clock.
//   - Byte slices may come back nil or empty for "none"; they are compared
//     by content.
//
// Rules the suite pins down that the interface's comments leave implicit:
//
//   - A job inserted with a zero RunAfter gets RunAfter = Now.
//   - IDs increase in insertion order and are never reused, even after the
//     job with the highest ID is deleted.
//   - A lease that expired stays the job's lease until another claim takes
//     the job: until then its holder may still renew it or finish the job.
//   - A job whose lease expired after it used its last attempt is not
//     returned by the next claim of its queue and kind: that claim writes it
//     failed, with ErrorCode "lease_expired", a message that mentions the
//     lease, FinishedAt = Now and the lease cleared.
//   - An abort request on a running job is recorded once: a second request
//     keeps the first AbortRequestedAt.
//   - Each finish entry is fenced and applied on its own; a batch with an
//     invalid entry writes nothing. Delete only applies to a terminal
//     outcome: a retried or released job is kept.
//   - A pending job is held by nobody: a heartbeat or finish that names it,
//     even with its zero LeaseToken, is lost or not applied.
//   - JobDeleteFinished deletes jobs that finished strictly before
//     FinishedBefore.
//   - Calls after Close return an error matching storage.ErrClosed.
package storagetest
