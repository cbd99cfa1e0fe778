package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// copyMinJobs is the smallest batch JobInsertMany writes with COPY (see
// insertCopy). Below it the multi-row INSERT's single round trip costs
// less than COPY's two; at 1,000 jobs COPY takes about two thirds of the
// INSERT's time.
const copyMinJobs = 100

// reserveIDsSQL draws $1 job ids, in order, and reads the database clock.
const reserveIDsSQL = `SELECT now(), array(SELECT nextval('{id_seq_lit}') FROM generate_series(1, $1))`

// copyColumns are the columns insertCopy writes, in the order of its rows;
// the others take their defaults.
var copyColumns = []string{"id", "kind", "queue", "priority", "max_attempts", "run_after", "deadline", "timeout_ns", "input", "created_at", "metadata"}

// copyJobsSQL is the COPY statement of insertCopy, in PostgreSQL's binary
// format.
var copyJobsSQL = `COPY {jobs} (` + strings.Join(copyColumns, ", ") + `) FROM STDIN (FORMAT binary)`

// copies reports whether JobInsertMany writes jobs with insertCopy: a
// batch of at least copyMinJobs, none with a unique key (COPY cannot skip
// a row on a conflict), through the store itself (a WithTx view's
// statements notify inside the caller's transaction, which the INSERT
// does in the same statement).
func (s *Store) copies(jobs []*storage.JobInsertParams) bool {
	if len(jobs) < copyMinJobs || s.run.notifies() {
		return false
	}
	for _, p := range jobs {
		if p.UniqueKey != "" {
			return false
		}
	}
	return true
}

// insertCopy inserts jobs that passed checkInserts and copies with COPY
// FROM, which writes rows far more cheaply than an INSERT of as many. One
// statement draws their ids and reads the clock, then COPY writes every
// row in one statement, so in one transaction: all of them or none. The
// results are built from the params, with no rows sent back.
func (s *Store) insertCopy(ctx context.Context, jobs []*storage.JobInsertParams, now time.Time) ([]*storage.JobInsertResult, error) {
	var (
		dbNow time.Time
		ids   []int64
	)
	if err := s.run.QueryRow(ctx, s.q.reserveIDs, len(jobs)).Scan(&dbNow, &ids); err != nil {
		return nil, translate("insert", err)
	}
	stored := make([]storage.Job, len(jobs))
	results := make([]storage.JobInsertResult, len(jobs))
	out := make([]*storage.JobInsertResult, len(jobs))
	var queues []string
	w := newCopyWriter(len(jobs))
	for i, p := range jobs {
		clock := dbNow
		switch {
		case !p.Now.IsZero():
			clock = p.Now
		case !now.IsZero():
			clock = now
		}
		created := *ts(clock)
		runAfter := created
		if !p.RunAfter.IsZero() {
			runAfter = *ts(p.RunAfter)
		}
		md := storage.EncodeMetadata(p.Metadata)
		w.row(len(copyColumns))
		w.int64(ids[i])
		w.text(p.Kind)
		w.text(p.Queue)
		w.int32(int32(p.Priority))
		w.int32(int32(p.MaxAttempts))
		w.timestamptz(runAfter)
		w.timestamptz(p.Deadline)
		w.int64(int64(p.Timeout))
		w.bytea(p.Input)
		w.timestamptz(created)
		w.jsonb(md)
		j := &stored[i]
		*j = storage.Job{
			ID: ids[i], Kind: p.Kind, Queue: p.Queue, State: storage.StatePending, Priority: p.Priority,
			MaxAttempts: p.MaxAttempts, RunAfter: runAfter, Timeout: p.Timeout, Input: p.Input, CreatedAt: created,
		}
		if d := ts(p.Deadline); d != nil {
			j.Deadline = *d
		}
		if md != nil {
			j.Metadata = maps.Clone(p.Metadata)
		}
		results[i].Job = j
		out[i] = &results[i]
		if !slices.Contains(queues, p.Queue) {
			queues = append(queues, p.Queue)
		}
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, translate("insert", err)
	}
	_, err = conn.Conn().PgConn().CopyFrom(ctx, w.reader(), s.q.copyJobs)
	conn.Release()
	if err != nil {
		return nil, translate("insert", err)
	}
	s.announce(queues, nil)
	return out, nil
}

// copyWriter encodes rows in PostgreSQL's binary COPY format: a header,
// then for each row its field count and each field as a length (-1 for
// NULL) and the value in the type's binary form, then a trailer. Writing
// the columns' types directly spares the reflection and the allocation
// per value that encoding rows of values through the driver costs.
type copyWriter struct{ b []byte }

// copyHeader is the binary COPY header: the signature, no flags, no
// header extension.
const copyHeader = "PGCOPY\n\xff\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00"

// copyRowGuess is about what one row of insertCopy takes, to size the
// buffer.
const copyRowGuess = 160

// pgEpochMicros is PostgreSQL's timestamp epoch, 2000-01-01 UTC, in
// microseconds since the Unix epoch.
const pgEpochMicros = 946684800 * 1000000

func newCopyWriter(rows int) *copyWriter {
	w := &copyWriter{b: make([]byte, 0, len(copyHeader)+rows*copyRowGuess+2)}
	w.b = append(w.b, copyHeader...)
	return w
}

// row starts a row of n fields.
func (w *copyWriter) row(n int) { w.b = binary.BigEndian.AppendUint16(w.b, uint16(n)) }

func (w *copyWriter) null() { w.b = binary.BigEndian.AppendUint32(w.b, 0xffffffff) }

// int64 writes a bigint.
func (w *copyWriter) int64(v int64) {
	w.b = binary.BigEndian.AppendUint32(w.b, 8)
	w.b = binary.BigEndian.AppendUint64(w.b, uint64(v))
}

// int32 writes an integer.
func (w *copyWriter) int32(v int32) {
	w.b = binary.BigEndian.AppendUint32(w.b, 4)
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(v))
}

// text writes a text value: its UTF-8 bytes.
func (w *copyWriter) text(v string) { w.b = appendValue(w.b, v) }

// bytea writes a bytea, or NULL for nil.
func (w *copyWriter) bytea(v []byte) {
	if v == nil {
		w.null()
		return
	}
	w.b = appendValue(w.b, v)
}

// appendValue appends a value of v's bytes, its length first.
func appendValue[T string | []byte](b []byte, v T) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// jsonb writes a jsonb of the JSON text v (format version 1), or NULL
// for nil.
func (w *copyWriter) jsonb(v []byte) {
	if v == nil {
		w.null()
		return
	}
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(len(v)+1))
	w.b = append(w.b, 1)
	w.b = append(w.b, v...)
}

// timestamptz writes t as microseconds since PostgreSQL's epoch, or NULL
// for the zero time. Sub-microsecond parts are dropped, as ts drops them.
func (w *copyWriter) timestamptz(t time.Time) {
	if t.IsZero() {
		w.null()
		return
	}
	w.int64(t.Unix()*1000000 + int64(t.Nanosecond()/1000) - pgEpochMicros)
}

// reader returns the encoded rows followed by the trailer.
func (w *copyWriter) reader() *bytes.Reader {
	w.b = binary.BigEndian.AppendUint16(w.b, 0xffff)
	return bytes.NewReader(w.b)
}
