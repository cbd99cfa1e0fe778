// Package storage is the contract between the jobgen runtime and its
// backends: the Storage interface, the Job record, job states, the
// parameter structs of every call and the sentinel errors.
//
// A backend is one package under runtime/storage (memory, sqlite,
// postgres) whose Store implements Storage. Every backend runs the
// conformance suite in runtime/storage/storagetest, which states each rule
// written here as a test; a semantic change lands there first.
//
// Rules every backend keeps:
//
//   - States are pending, running, completed, failed and aborted. A pending
//     job is ready when its RunAfter is not after the storage's clock.
//     Terminal states never change again.
//   - JobClaim hands each ready job to exactly one caller, ordered by
//     priority (smaller first), then RunAfter, then ID. A claim sets the job
//     running, increments Attempt and gives it a fresh lease token and
//     expiry. A running job whose lease has expired is claimable again, and
//     its old token is dead. Each claimed job comes back as a ClaimedJob
//     whose fields equal the stored job's after the claim.
//   - Every write after a claim (heartbeat, finish) is fenced by the lease
//     token: a write with a token that is not the job's current one, or for
//     a job that is no longer running, changes nothing and is reported as
//     not applied.
//   - A running job whose lease has expired still belongs to its holder until
//     another claim takes it. A claim that finds such a job with its
//     attempts used up fails it (ErrorCode "lease_expired") instead of
//     handing it out, so a job that keeps killing its worker ends failed.
//   - A deadline is not checked by storage: the runtime fails a job it
//     claims after the job's Deadline without running it.
//   - Unique keys hold per kind among pending and running jobs.
//   - Kinds, queues, unique keys, error messages and error codes are text:
//     valid UTF-8 without NUL bytes (see TextProblem). An insert of other
//     text fails with ErrInvalid and writes nothing; a JobFinish entry
//     with it fails alone (JobFinishResult.Errors), as does one whose
//     value the database refuses, and the other entries are written.
//   - A job's metadata is stored at insert, within the bounds
//     MetadataProblem checks (an insert outside them fails with ErrInvalid
//     and writes nothing). Every read of the job returns it as inserted,
//     nil when the job has none (an empty map too); no later write changes
//     it, and callers get maps of their own.
//   - IDs are positive and never reused, even after the newest job is
//     deleted. A zero RunAfter means Now. A second abort request keeps the
//     first AbortRequestedAt. JobDeleteFinished deletes only jobs that
//     finished strictly before the cutoff. Close may be called twice; every
//     other call after it fails with ErrClosed.
//   - A call that cannot reach the database, or loses its connection, fails
//     with an error matching ErrUnavailable; a lock held past the busy
//     timeout, with ErrBusy. A write that failed with ErrUnavailable (or
//     with its context's error) may or may not have taken effect, so a
//     caller that must know reads back: a finish that landed has cleared
//     the lease token, which a retry of it then no longer matches.
//   - Times are taken from the storage's clock unless a call passes Now.
//     Tests pass Now to move time without sleeping; the runtime leaves it
//     zero, so a database backend uses the database clock. Times are kept
//     to at least the microsecond. In JobInsertMany the batch's Now applies
//     to every entry.
//
// This package imports nothing else from jobgen.
package storage
