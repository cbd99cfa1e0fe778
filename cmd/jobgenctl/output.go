package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jobgen/jobgen/runtime/storage"
)

// outFlags choose the output format; every command that prints data takes
// them.
type outFlags struct {
	json bool
}

// register adds --json to fs.
func (o *outFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.json, "json", false, "print JSON (field names are documented in jobgenctl help) instead of a table")
}

// table writes aligned columns, two spaces apart.
type table struct {
	tw *tabwriter.Writer
}

// newTable returns a table that writes to w once flushed.
func newTable(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

// row adds one row of cells, each made safe for a terminal.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = cell(c)
	}
	io.WriteString(t.tw, strings.Join(cells, "\t")+"\n")
}

// flush writes the rows.
func (t *table) flush() error { return t.tw.Flush() }

// cell returns s on one line and safe for a terminal, or "-" when empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("\t", " ", "\n", " ").Replace(safe(s))
}

// safe returns s as valid UTF-8 without the control characters a terminal
// could take as commands, tabs and line breaks aside.
func safe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\r' {
			return ' '
		}
		if unicode.IsControl(r) && r != '\t' && r != '\n' {
			return '\uFFFD'
		}
		return r
	}, s)
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// textTime formats t for a table: RFC 3339 in UTC to the second, or "-".
func textTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// exactTime formats t to the microsecond the stores keep, or "-".
func exactTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// jsonTime is t in UTC for JSON, nil (null) when zero.
func jsonTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// jobJSON is a job as --json prints it. The field names are part of
// jobgenctl's interface: keep them stable.
type jobJSON struct {
	ID               int64           `json:"id"`
	Kind             string          `json:"kind"`
	Queue            string          `json:"queue"`
	State            storage.State   `json:"state"`
	Priority         int             `json:"priority"`
	Attempt          int             `json:"attempt"`
	MaxAttempts      int             `json:"max_attempts"`
	UniqueKey        string          `json:"unique_key"`
	Input            json.RawMessage `json:"input"`
	Output           json.RawMessage `json:"output"`
	ErrorMessage     string          `json:"error_message"`
	ErrorCode        string          `json:"error_code"`
	TimeoutMS        int64           `json:"timeout_ms"`
	CreatedAt        *time.Time      `json:"created_at"`
	RunAfter         *time.Time      `json:"run_after"`
	AttemptedAt      *time.Time      `json:"attempted_at"`
	FinishedAt       *time.Time      `json:"finished_at"`
	LeaseExpiresAt   *time.Time      `json:"lease_expires_at"`
	AbortRequestedAt *time.Time      `json:"abort_requested_at"`
	Deadline         *time.Time      `json:"deadline"`
}

// newJobJSON converts j.
func newJobJSON(j *storage.Job) jobJSON {
	return jobJSON{
		ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: j.State, Priority: j.Priority,
		Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, UniqueKey: j.UniqueKey,
		Input: payloadJSON(j.Input), Output: payloadJSON(j.Output),
		ErrorMessage: j.ErrorMessage, ErrorCode: j.ErrorCode, TimeoutMS: j.Timeout.Milliseconds(),
		CreatedAt: jsonTime(j.CreatedAt), RunAfter: jsonTime(j.RunAfter), AttemptedAt: jsonTime(j.AttemptedAt),
		FinishedAt: jsonTime(j.FinishedAt), LeaseExpiresAt: jsonTime(j.LeaseExpiresAt),
		AbortRequestedAt: jsonTime(j.AbortRequestedAt), Deadline: jsonTime(j.Deadline),
	}
}

// payloadJSON is an encoded input or output as a JSON value: itself when it
// is JSON (as jobgen encodes them), a string of its text otherwise, and
// null when empty.
func payloadJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	if json.Valid(b) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err == nil {
			return buf.Bytes()
		}
	}
	s, _ := json.Marshal(strings.ToValidUTF8(string(b), "\uFFFD"))
	return s
}

// payloadText is an encoded input or output for reading: indented JSON, a
// quoted string when it is not JSON, or "-" when empty.
func payloadText(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	var buf bytes.Buffer
	if json.Valid(b) && json.Indent(&buf, b, "", "  ") == nil {
		return buf.String()
	}
	return strconv.Quote(string(b))
}
