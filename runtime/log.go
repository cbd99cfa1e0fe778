package runtime

import (
	"log/slog"

	"github.com/jobgen/jobgen/runtime/storage"
)

// The attribute names of the runtime's log lines. Every line about one job
// carries the job's id, kind, queue and attempt (see jobArgs); a line about
// a queue carries its name as logQueue; a line about an error carries it as
// logErr. Job arguments and results are never logged.
//
// Levels: Debug for what happens routinely (a retry, a sweep, a dropped
// progress report, start and stop), Info for a change of how the server
// works (a queue held), Warn for a job that failed and for trouble the
// server gets over by itself (a lost lease, a storage call that failed
// and is made again: a claim, a heartbeat, an outcome write retried, a
// sweep), Error for work or outcomes lost (an outcome write given up, a
// handler's panic, a limiter's bookkeeping lost).
const (
	logJobID   = "job_id"
	logKind    = "kind"
	logQueue   = "queue"
	logAttempt = "attempt"
	logErr     = "err"
	// logStack is the stack of a recovered panic, logged once, at Error,
	// where the panic is recovered.
	logStack = "stack"
)

// jobArgs returns the attributes of a log line about the claimed job rec,
// followed by args.
func jobArgs(rec *storage.ClaimedJob, args ...any) []any {
	return append([]any{
		slog.Int64(logJobID, rec.ID), slog.String(logKind, rec.Kind),
		slog.String(logQueue, rec.Queue), slog.Int(logAttempt, rec.Attempt),
	}, args...)
}

// outcomeArgs returns the attributes of a log line about the outcome f of
// rec's attempt: rec's (see jobArgs), f's error code, args, and f's error
// message as logErr, but for a panic, whose message holds the stack that
// was logged when the panic was recovered.
func outcomeArgs(rec *storage.ClaimedJob, f *storage.JobFinish, args ...any) []any {
	out := jobArgs(rec, "code", f.ErrorCode)
	out = append(out, args...)
	if f.ErrorCode != CodePanic {
		out = append(out, slog.String(logErr, f.ErrorMessage))
	}
	return out
}
