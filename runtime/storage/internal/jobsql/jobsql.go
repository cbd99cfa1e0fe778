// Package jobsql builds the SQL of job queries and bulk operations for the
// SQL backends from a storage.JobFilter. Each backend supplies its dialect
// (placeholders, how times and id lists are bound); the shape of the
// statements, and so which index each one can use, is decided here once.
//
// A listing in id order is one statement of arms: for every state the
// filter allows (every state when it names none), and for every named
// queue (or kind) when there are few, one arm reads that state's jobs in
// id order, stopping after the page; the arms are merged in id order. Each
// arm names its state as a literal, so that a partial index whose
// predicate the state implies can serve it whatever the plan:
//
//   - a finished state's arm reads the index (state, id), (queue, state,
//     id) or (kind, state, id) of finished jobs (Terminal),
//   - a pending or running arm of a kind reads (kind, state, id), which
//     holds every job (its predicate, state IS NOT NULL, keeps statements
//     that look a job up by id alone on the primary key),
//   - any other pending or running arm reads the jobs backwards (or
//     forwards) by id, checking each one's state, until it has its page:
//     it reads as many jobs as lie between the page's jobs, so a listing
//     of a queue's few running jobs in a large table reads much of it.
//     No index of active jobs in id order is kept: each would be written
//     by every insert, claim and finish.
//
// No finished-state arm sorts or reads more than a page of index entries
// unless the other conditions reject most of them.
package jobsql

import (
	"strings"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// Dialect binds values for one backend. Each method appends its value to
// the statement's arguments and returns the SQL that refers to it.
type Dialect interface {
	// Param binds a text or integer value.
	Param(v any) string
	// Time binds a time as the backend stores it.
	Time(t time.Time) string
	// IDs returns the condition "column is one of ids".
	IDs(column string, ids []int64) string
}

// maxArms caps the arms of one listing: past it, the queues (or kinds) are
// checked on each row of the state arms instead of having arms of their own.
const maxArms = 40

// conds returns the conditions of f on alias a (for example "j."); the
// queue and kind conditions only when asked (an arm states its own).
func conds(d Dialect, f *storage.JobFilter, a string, queues, kinds bool) []string {
	out := []string{"1 = 1"}
	if len(f.IDs) > 0 {
		out = append(out, d.IDs(a+"id", f.IDs))
	}
	if queues && len(f.Queues) > 0 {
		out = append(out, in(d, a+"queue", f.Queues))
	}
	if kinds && len(f.Kinds) > 0 {
		out = append(out, in(d, a+"kind", f.Kinds))
	}
	if f.UniqueKey != "" {
		out = append(out, a+"unique_key = "+d.Param(f.UniqueKey))
	}
	if !f.CreatedAfter.IsZero() {
		out = append(out, a+"created_at >= "+d.Time(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		out = append(out, a+"created_at < "+d.Time(f.CreatedBefore))
	}
	if !f.FinishedAfter.IsZero() {
		out = append(out, a+"finished_at >= "+d.Time(f.FinishedAfter))
	}
	if !f.FinishedBefore.IsZero() {
		out = append(out, a+"finished_at < "+d.Time(f.FinishedBefore))
	}
	return out
}

func in(d Dialect, column string, values []string) string {
	if len(values) == 1 {
		return column + " = " + d.Param(values[0])
	}
	ps := make([]string, len(values))
	for i, v := range values {
		ps[i] = d.Param(v)
	}
	return column + " IN (" + strings.Join(ps, ", ") + ")"
}

// Terminal returns, on alias a (for example "j."), the predicate of the
// partial indexes of finished jobs as the migrations write it. Every arm
// of a finished state states it so, because SQLite matches a partial
// index's predicate only term by term. It compares the state three times
// rather than using IN: SQLite evaluates a partial index's predicate on
// every write of a row, and builds a table for an IN list each time.
func Terminal(a string) string {
	return "(" + a + "state = 'completed' OR " + a + "state = 'failed' OR " + a + "state = 'aborted')"
}

// stateCond returns the condition "column a.state is st", with st as a
// quoted literal (plus Terminal for a finished state).
func stateCond(a string, st storage.State) string {
	c := a + "state = '" + strings.ReplaceAll(string(st), "'", "''") + "'"
	if st.Terminal() {
		c += " AND " + Terminal(a)
	}
	return c
}

// CappedCount returns a scalar subquery that counts the jobs in state st
// that cond selects (both on alias x of from, for example "jobs x"),
// stopping at limit (an SQL expression): it reads at most limit entries
// of an index that leads with cond's columns and the state. With
// asRange, it states the state as a range of one value, which implies the
// predicate of the kind index (state IS NOT NULL) but not that of the
// claim's indexes (state = 'pending', state = 'running'): PostgreSQL then
// cannot count through those, reading every pending or running job's row
// to check its group. SQLite, which is told the index, wants the equality.
func CappedCount(from, cond string, st storage.State, limit string, asRange bool) string {
	c := stateCond("x.", st)
	if asRange {
		lit := "'" + strings.ReplaceAll(string(st), "'", "''") + "'"
		c = "x.state >= " + lit + " AND x.state <= " + lit
		if st.Terminal() {
			c += " AND " + Terminal("x.")
		}
	}
	return "(SELECT count(*) FROM (SELECT 1 FROM " + from + " WHERE " + cond + " AND " + c + " LIMIT " + limit + ") n)"
}

func stateStrings(sts []storage.State) []string {
	out := make([]string, len(sts))
	for i, st := range sts {
		out[i] = string(st)
	}
	return out
}

// Page describes one page of jobs.
type Page struct {
	// Table is the jobs table; Columns the columns to return (alias "j.").
	Table, Columns string
	Filter         *storage.JobFilter
	// States restricts the states to those an operation applies to (nil: any).
	States []storage.State
	// Extra is one more condition on j, for example " AND j.x IS NULL".
	Extra string
	Order storage.Order
	// AfterID starts the page after (newest first: before) this id; zero
	// starts at the first job.
	AfterID int64
	Limit   int
}

// SQL returns the statement of the page, binding its values through d.
func (p *Page) SQL(d Dialect) string {
	f, allowed, table, cols, afterID := p.Filter, p.States, p.Table, p.Columns, p.AfterID
	dir, cmp := "ASC", ">"
	if p.Order == storage.OrderNewest {
		dir, cmp = "DESC", "<"
	}
	states := f.States
	if len(states) == 0 {
		states = storage.States
	}
	if allowed != nil {
		var keep []storage.State
		for _, st := range states {
			for _, a := range allowed {
				if st == a {
					keep = append(keep, st)
					break
				}
			}
		}
		states = keep
	}
	if len(states) == 0 {
		return "SELECT " + cols + " FROM " + table + " j WHERE 1 = 0"
	}
	lim := d.Param(p.Limit)
	var after string
	if afterID > 0 {
		after = " AND j.id " + cmp + " " + d.Param(afterID)
	}
	order := " ORDER BY j.id " + dir + " LIMIT " + lim
	if len(f.IDs) > 0 {
		// The ids drive the statement: a primary-key lookup each.
		c := conds(d, f, "j.", true, true)
		c = append(c, in(d, "j.state", stateStrings(states)))
		return "SELECT " + cols + " FROM " + table + " j WHERE " + strings.Join(c, " AND ") + p.Extra + after + order
	}
	// The arms: per state, and per queue or kind when there are few.
	var by string
	var names []string
	switch {
	case len(f.Queues) > 0 && len(f.Queues)*len(states) <= maxArms:
		by, names = "queue", f.Queues
	case len(f.Kinds) > 0 && len(f.Kinds)*len(states) <= maxArms:
		by, names = "kind", f.Kinds
	}
	rest := strings.Join(conds(d, f, "j.", by != "queue", by != "kind"), " AND ") + p.Extra
	var arms []string
	arm := func(extra string, st storage.State) {
		arms = append(arms, "SELECT * FROM (SELECT "+cols+" FROM "+table+" j WHERE "+stateCond("j.", st)+extra+
			" AND "+rest+after+order+") a")
	}
	for _, st := range states {
		if by == "" {
			arm("", st)
			continue
		}
		for _, n := range names {
			arm(" AND j."+by+" = "+d.Param(n), st)
		}
	}
	if len(arms) == 1 {
		return strings.TrimSuffix(strings.TrimPrefix(arms[0], "SELECT * FROM ("), ") a")
	}
	return "SELECT * FROM (" + strings.Join(arms, " UNION ALL ") + ") u ORDER BY id " + dir + " LIMIT " + lim
}
