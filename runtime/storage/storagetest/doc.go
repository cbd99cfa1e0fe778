// Package storagetest is the conformance suite of the storage contract:
// every rule that runtime/storage states for backends, written as tests.
// Every backend runs all of it, unchanged, from a few lines in its own
// tests, which say how to open its stores:
//
//	var backend = storagetest.Backend{
//		New: func(t *testing.T) storage.Storage {
//			s := memory.New()
//			t.Cleanup(func() { s.Close() })
//			return s
//		},
//		Open: func(t *testing.T, s storage.Storage) storage.Storage {
//			p := s.(*memory.Store).Peer()
//			t.Cleanup(func() { p.Close() })
//			return p
//		},
//	}
//
//	func TestConformance(t *testing.T) { storagetest.Run(t, backend) }
//
// The suite speaks only through the storage.Storage interface, and through
// storage.InsertClaimer and storage.Notifier where a backend implements
// them (their tests are skipped otherwise). The Notifier tests need a
// second store over the same jobs, from Backend.Open, to listen as another
// process would. What the suite asks of a backend beyond the interface:
//
//   - New returns a fresh, empty store on every call and registers its
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
//   - A release honours RetryDelay as a retry does: the job is ready at
//     Now + RetryDelay, with the attempt its claim used given back.
//   - A pending job is held by nobody: a heartbeat or finish that names it,
//     even with its zero LeaseToken, is lost or not applied.
//   - JobDeleteFinished deletes jobs that finished strictly before
//     FinishedBefore.
//   - Calls after Close return an error matching storage.ErrClosed.
//
// What the suite asks of a Notifier, where the interface's comments are
// short:
//
//   - A subscriber hears what is done through any store over the same
//     jobs: NotifyInserted with the Queue for jobs that became pending
//     there (inserted, deferred, retried or released), NotifyAbortRequested
//     with the JobID of a running job whose abort was requested, and
//     NotifyFinished with the JobID of every job that reached a terminal
//     state (finished, deleted as it finished, aborted while pending, or
//     failed by a claim after its lease expired). It hears only after the
//     change can be read through its own store.
//   - Notifications carry ids: only a published progress report has a
//     Payload. Extra notifications are allowed; they are hints.
//   - Publish reaches every subscriber of every store, the publisher's
//     own included, and rejects a notification without a valid kind with
//     an error matching storage.ErrInvalid.
//   - A subscription's channel is closed when its context ends or its
//     store is closed; Subscribe and Publish then fail with
//     storage.ErrClosed. Closing one store leaves the others working.
package storagetest
