package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/jobgen/jobgen/runtime/storage"
)

// ts turns a caller's time into a parameter: nil (the database clock, or
// "not set") when zero, else UTC truncated to PostgreSQL's microseconds.
func ts(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

// micros converts a duration to whole microseconds, PostgreSQL's precision.
func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }

// timestamptz returns t in UTC, or the zero time for NULL.
func timestamptz(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// scanJob reads jobColumns into a Job. extra are scanned first.
func scanJob(row pgx.Row, extra ...any) (*storage.Job, error) {
	var (
		j                                                     storage.Job
		state                                                 string
		runAfter, createdAt                                   time.Time
		leaseExp, abortReq, deadline, attemptedAt, finishedAt pgtype.Timestamptz
		timeoutNS                                             int64
	)
	dest := append(extra,
		&j.ID, &j.Kind, &j.Queue, &state, &j.Priority, &j.Attempt, &j.MaxAttempts, &runAfter,
		&j.LeaseToken, &leaseExp, &abortReq, &deadline, &timeoutNS, &j.Input, &j.Output,
		&j.ErrorMessage, &j.ErrorCode, &j.UniqueKey, &createdAt, &attemptedAt, &finishedAt,
		metadataColumn{&j.Metadata})
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	j.State = storage.State(state)
	j.RunAfter = runAfter.UTC()
	j.CreatedAt = createdAt.UTC()
	j.LeaseExpiresAt = timestamptz(leaseExp)
	j.AbortRequestedAt = timestamptz(abortReq)
	j.Deadline = timestamptz(deadline)
	j.AttemptedAt = timestamptz(attemptedAt)
	j.FinishedAt = timestamptz(finishedAt)
	j.Timeout = time.Duration(timeoutNS)
	return &j, nil
}

// metadataColumn scans a metadata column (jsonb, NULL when none) into
// *dst.
type metadataColumn struct{ dst *map[string]string }

// ScanBytes implements pgtype.BytesScanner; v is nil for NULL and valid
// only during the call.
func (c metadataColumn) ScanBytes(v []byte) (err error) {
	*c.dst, err = storage.DecodeMetadata(v)
	return err
}
