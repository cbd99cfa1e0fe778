package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// filterHelp explains the filter flags in the help of every jobs command.
const filterHelp = `Filters: --state, --kind and --queue take one value or several, comma
separated or repeated (any of them matches); --created-after/-before and
--finished-after/-before take an RFC 3339 time (2026-01-02T15:04:05Z) or a
duration ago (90s, 15m, 2h, 7d); --unique-key matches one key. Every
filter given must match.`

// bulkHelp explains the guards of the commands that change jobs.
const bulkHelp = `One job id changes that job. Several ids, or a filter, make a bulk
operation: it needs --yes (without it the command only says how many jobs
match and changes nothing), and a bulk operation without ids or filters
also needs --all.`

// jobJSONHelp lists the fields of a job in --json output.
const jobJSONHelp = `JSON job fields: id, kind, queue, state, priority, attempt,
max_attempts, unique_key, input, output (the job's arguments and result
as JSON, or a string when they are not JSON; null when none),
error_message, error_code, timeout_ms, created_at, run_after,
attempted_at, finished_at, lease_expires_at, abort_requested_at, deadline
(RFC 3339 in UTC, null when not set).`

var jobsCommands = []*command{
	{
		name:    "jobs list",
		summary: "list jobs, newest first, one page at a time",
		help: filterHelp + `

--order oldest lists the oldest first. A page holds --limit jobs (at most
1000); when more follow, the cursor of the next page is printed on stderr
(with --json, as "next"), for --cursor with the same filters and order.

` + jobJSONHelp + ` The list is {"jobs": [...], "next"}.

Examples:

	jobgenctl jobs list --dsn jobs.db --state failed --kind email
	jobgenctl jobs list --state pending,running --queue default --created-before 1h
	jobgenctl jobs list --order oldest --limit 50 --cursor djEubjQy --json`,
		setup: jobsList,
	},
	{
		name:    "jobs show",
		args:    "<id>",
		summary: "show one job with its arguments, output and every timestamp",
		help: `The arguments and the output are printed as indented JSON.

` + jobJSONHelp + `

Examples:

	jobgenctl jobs show --dsn jobs.db 42
	jobgenctl jobs show 42 --json`,
		setup: jobsShow,
	},
	{
		name:    "jobs retry",
		args:    "[<id>...]",
		summary: "return failed or aborted jobs to pending with fresh attempts",
		help: `A retried job is pending again, ready now, with its attempts reset; it keeps
its last error until its next outcome. One job id that is pending, running
or completed is an error (submit a new job instead of retrying a completed
one); by filter, jobs in those states are left alone.

` + bulkHelp + `

` + filterHelp + `

JSON: {"retried": <count>}.

Examples:

	jobgenctl jobs retry --dsn jobs.db 42
	jobgenctl jobs retry --state failed --kind email --finished-after 1h --yes`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
			return bulk(a, fs, retryOp)
		},
	},
	{
		name:    "jobs abort",
		args:    "[<id>...]",
		summary: "abort pending jobs, and ask running ones to stop",
		help: `A pending job is aborted at once; a running job is asked to abort, which its
server sees at its next heartbeat or notification. One job id that has
finished is an error; by filter, finished jobs are left alone.

` + bulkHelp + `

` + filterHelp + `

JSON: {"aborted": <count>} (jobs aborted or asked to abort).

Examples:

	jobgenctl jobs abort --dsn jobs.db 42
	jobgenctl jobs abort --state pending --queue reports --yes`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
			return bulk(a, fs, abortOp)
		},
	},
	{
		name:    "jobs delete",
		args:    "[<id>...]",
		summary: "delete finished jobs (and pending ones with --pending)",
		help: `Deletes completed, failed and aborted jobs; with --pending, pending ones too.
Running jobs are never deleted. One job id that is running (or pending,
without --pending) is an error; by filter, those jobs are left alone.

` + bulkHelp + `

` + filterHelp + `

JSON: {"deleted": <count>}.

Examples:

	jobgenctl jobs delete --dsn jobs.db 42
	jobgenctl jobs delete --state completed --finished-before 7d --yes
	jobgenctl jobs delete --all --yes`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
			return bulk(a, fs, deleteOp)
		},
	},
}

// listValue is a flag of names: repeated, comma separated, or both.
type listValue struct {
	names *[]string
}

func (l listValue) String() string {
	if l.names == nil {
		return ""
	}
	return strings.Join(*l.names, ",")
}

func (l listValue) Set(s string) error {
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return errors.New("empty name")
		}
		*l.names = append(*l.names, name)
	}
	return nil
}

// timeValue is a time flag: RFC 3339, or a duration before now.
type timeValue struct {
	t *time.Time
}

func (v timeValue) String() string {
	if v.t == nil || v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339Nano)
}

func (v timeValue) Set(s string) error {
	t, err := parseTime(s, time.Now())
	if err != nil {
		return err
	}
	*v.t = t
	return nil
}

// parseTime parses an RFC 3339 time, or a duration (Go's units and d for
// days) that far before now.
func parseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := parseAgo(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration ago (90s, 15m, 2h, 7d)")
	}
	return now.Add(-d), nil
}

// parseAgo parses a non-negative duration; a whole number of days may be
// written Nd.
func parseAgo(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = errors.New("negative duration")
	}
	return d, err
}

// filterFlags are the flags that select jobs.
type filterFlags struct {
	f runtime.JobFilter
}

// register adds the filter flags to fs.
func (ff *filterFlags) register(fs *flag.FlagSet) {
	f := &ff.f
	fs.Var(stateList{&f.States}, "state", "match jobs in these `states` (pending, running, completed, failed, aborted)")
	fs.Var(listValue{names: &f.Kinds}, "kind", "match jobs of these `kinds`")
	fs.Var(listValue{names: &f.Queues}, "queue", "match jobs of these `queues`")
	fs.Var(timeValue{&f.CreatedAfter}, "created-after", "match jobs created at or after this `time` (RFC 3339 or a duration ago)")
	fs.Var(timeValue{&f.CreatedBefore}, "created-before", "match jobs created before this `time`")
	fs.Var(timeValue{&f.FinishedAfter}, "finished-after", "match jobs finished at or after this `time`")
	fs.Var(timeValue{&f.FinishedBefore}, "finished-before", "match jobs finished before this `time`")
	fs.StringVar(&f.UniqueKey, "unique-key", "", "match jobs with this unique `key`")
}

// stateList is the --state flag: names checked as states.
type stateList struct {
	states *[]storage.State
}

func (l stateList) String() string {
	if l.states == nil {
		return ""
	}
	names := make([]string, len(*l.states))
	for i, st := range *l.states {
		names[i] = string(st)
	}
	return strings.Join(names, ",")
}

func (l stateList) Set(s string) error {
	var names []string
	if err := (listValue{names: &names}).Set(s); err != nil {
		return err
	}
	for _, name := range names {
		st, err := storage.ParseState(name)
		if err != nil {
			return err
		}
		*l.states = append(*l.states, st)
	}
	return nil
}

// parseIDs parses job ids.
func parseIDs(args []string) ([]int64, error) {
	ids := make([]int64, 0, len(args))
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, usagef("job id %q: want a positive integer", a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// jobsList is "jobs list".
func jobsList(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
	var c connFlags
	var o outFlags
	var ff filterFlags
	c.register(fs)
	o.register(fs)
	ff.register(fs)
	order := fs.String("order", "newest", "`newest` or oldest first")
	limit := fs.Int("limit", 100, "the most jobs on a page, 1 to 1000")
	cursor := fs.String("cursor", "", "continue after the page this `cursor` came with")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(args); err != nil {
			return err
		}
		opts := &runtime.ListOpts{Filter: ff.f, Cursor: *cursor, Limit: *limit}
		switch *order {
		case "newest":
			opts.Order = runtime.OrderNewest
		case "oldest":
			opts.Order = runtime.OrderOldest
		default:
			return usagef("--order %q: want newest or oldest", *order)
		}
		if *limit < 1 || *limit > 1000 {
			return usagef("--limit %d: want 1 to 1000", *limit)
		}
		cl, done, err := a.client(ctx, &c)
		if err != nil {
			return err
		}
		defer done()
		page, err := cl.List(ctx, opts)
		if err != nil {
			return err
		}
		if o.json {
			jobs := make([]jobJSON, len(page.Jobs))
			for i, j := range page.Jobs {
				jobs[i] = newJobJSON(j)
			}
			return writeJSON(a.stdout, struct {
				Jobs []jobJSON `json:"jobs"`
				Next string    `json:"next"`
			}{jobs, page.Next})
		}
		t := newTable(a.stdout)
		t.row("ID", "STATE", "KIND", "QUEUE", "ATTEMPT", "CREATED", "FINISHED", "ERROR")
		for _, j := range page.Jobs {
			t.row(strconv.FormatInt(j.ID, 10), string(j.State), j.Kind, j.Queue,
				fmt.Sprintf("%d/%d", j.Attempt, j.MaxAttempts), textTime(j.CreatedAt), textTime(j.FinishedAt),
				shorten(j.ErrorMessage, 60))
		}
		if err := t.flush(); err != nil {
			return err
		}
		if page.Next != "" {
			fmt.Fprintf(a.stderr, "more jobs follow: --cursor %s\n", page.Next)
		}
		return nil
	}
}

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// jobsShow is "jobs show".
func jobsShow(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
	var c connFlags
	var o outFlags
	c.register(fs)
	o.register(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) != 1 {
			return usagef("want one job id, got %d arguments", len(args))
		}
		ids, err := parseIDs(args)
		if err != nil {
			return err
		}
		cl, done, err := a.client(ctx, &c)
		if err != nil {
			return err
		}
		defer done()
		j, err := cl.Get(ctx, ids[0])
		if err != nil {
			return err
		}
		if o.json {
			return writeJSON(a.stdout, newJobJSON(j))
		}
		timeout := "-"
		if j.Timeout > 0 {
			timeout = j.Timeout.String()
		}
		t := newTable(a.stdout)
		for _, kv := range [][2]string{
			{"id", strconv.FormatInt(j.ID, 10)},
			{"kind", j.Kind},
			{"queue", j.Queue},
			{"state", string(j.State)},
			{"priority", strconv.Itoa(j.Priority)},
			{"attempt", fmt.Sprintf("%d of %d", j.Attempt, j.MaxAttempts)},
			{"unique key", j.UniqueKey},
			{"timeout", timeout},
			{"error", j.ErrorMessage},
			{"error code", j.ErrorCode},
			{"created at", exactTime(j.CreatedAt)},
			{"run after", exactTime(j.RunAfter)},
			{"attempted at", exactTime(j.AttemptedAt)},
			{"finished at", exactTime(j.FinishedAt)},
			{"lease expires at", exactTime(j.LeaseExpiresAt)},
			{"abort requested at", exactTime(j.AbortRequestedAt)},
			{"deadline", exactTime(j.Deadline)},
		} {
			t.row(kv[0]+":", kv[1])
		}
		if err := t.flush(); err != nil {
			return err
		}
		for _, p := range []struct {
			name string
			b    []byte
		}{{"input", j.Input}, {"output", j.Output}} {
			fmt.Fprintf(a.stdout, "%s:\n  %s\n", p.name, strings.ReplaceAll(payloadText(p.b), "\n", "\n  "))
		}
		return nil
	}
}

// bulkOp is what retry, abort and delete do differently.
type bulkOp struct {
	verb, past string
	// affects lists the states the operation may change.
	affects []storage.State
	// pending says the operation has --pending (delete).
	pending bool
	// one changes one job and says what it did.
	one func(ctx context.Context, cl *runtime.Client, id int64, o bulkOpts) (string, error)
	// many changes the jobs matching f and returns how many.
	many func(ctx context.Context, cl *runtime.Client, f runtime.JobFilter, o bulkOpts) (int, error)
}

// bulkOpts are the flags of a bulk operation that the client takes.
type bulkOpts struct {
	all, pending bool
}

var retryOp = &bulkOp{
	verb: "retry", past: "retried",
	affects: []storage.State{storage.StateFailed, storage.StateAborted},
	one: func(ctx context.Context, cl *runtime.Client, id int64, _ bulkOpts) (string, error) {
		if _, err := cl.Retry(ctx, id, nil); err != nil {
			return "", err
		}
		return fmt.Sprintf("retried job %d", id), nil
	},
	many: func(ctx context.Context, cl *runtime.Client, f runtime.JobFilter, o bulkOpts) (int, error) {
		return cl.RetryMany(ctx, f, &runtime.RetryOpts{All: o.all})
	},
}

var abortOp = &bulkOp{
	verb: "abort", past: "aborted",
	affects: []storage.State{storage.StatePending, storage.StateRunning},
	one: func(ctx context.Context, cl *runtime.Client, id int64, _ bulkOpts) (string, error) {
		if err := cl.Abort(ctx, id); err != nil {
			return "", err
		}
		j, err := cl.Get(ctx, id)
		if err != nil {
			return "", err
		}
		if j.State == storage.StateRunning {
			return fmt.Sprintf("asked running job %d to abort", id), nil
		}
		return fmt.Sprintf("aborted job %d", id), nil
	},
	many: func(ctx context.Context, cl *runtime.Client, f runtime.JobFilter, o bulkOpts) (int, error) {
		return cl.AbortMany(ctx, f, &runtime.AbortManyOpts{All: o.all})
	},
}

var deleteOp = &bulkOp{
	verb: "delete", past: "deleted",
	affects: []storage.State{storage.StateCompleted, storage.StateFailed, storage.StateAborted},
	pending: true,
	one: func(ctx context.Context, cl *runtime.Client, id int64, o bulkOpts) (string, error) {
		if err := cl.Delete(ctx, id, &runtime.DeleteOpts{Pending: o.pending}); err != nil {
			return "", err
		}
		return fmt.Sprintf("deleted job %d", id), nil
	},
	many: func(ctx context.Context, cl *runtime.Client, f runtime.JobFilter, o bulkOpts) (int, error) {
		return cl.DeleteMany(ctx, f, &runtime.DeleteOpts{Pending: o.pending, All: o.all})
	},
}

// bulk sets up the command of op: one job by id, or many by ids or filter.
func bulk(a *app, fs *flag.FlagSet, op *bulkOp) func(context.Context, []string) error {
	var c connFlags
	var o outFlags
	var ff filterFlags
	c.register(fs)
	o.register(fs)
	ff.register(fs)
	var bo bulkOpts
	if op.pending {
		fs.BoolVar(&bo.pending, "pending", false, "delete pending jobs too")
	}
	fs.BoolVar(&bo.all, "all", false, "allow a bulk operation without ids or filters: every job")
	yes := fs.Bool("yes", false, "go ahead with a bulk operation")
	return func(ctx context.Context, args []string) error {
		ids, err := parseIDs(args)
		if err != nil {
			return err
		}
		f := ff.f
		single := len(ids) == 1 && f.Empty()
		f.IDs = ids
		if f.Empty() && !bo.all {
			return usagef("refusing to %s every job: give job ids or a filter, or --all", op.verb)
		}
		cl, done, err := a.client(ctx, &c)
		if err != nil {
			return err
		}
		defer done()
		var n int
		var msg string
		switch {
		case single:
			n = 1
			if msg, err = op.one(ctx, cl, ids[0], bo); err != nil {
				return err
			}
		case len(ids) != 1 && !*yes:
			return op.refuse(ctx, cl, f, bo)
		default:
			if n, err = op.many(ctx, cl, f, bo); err != nil {
				return err
			}
			msg = fmt.Sprintf("%s %d %s", op.past, n, plural(n, "job"))
		}
		if o.json {
			return writeJSON(a.stdout, map[string]int{op.past: n})
		}
		_, err = fmt.Fprintln(a.stdout, msg)
		return err
	}
}

// refuse says how many jobs a bulk operation without --yes would change,
// as far as one page of them shows, and changes nothing.
func (op *bulkOp) refuse(ctx context.Context, cl *runtime.Client, f runtime.JobFilter, o bulkOpts) error {
	states := op.affects
	if o.pending {
		states = append(slices.Clone(states), storage.StatePending)
	}
	if len(f.States) > 0 {
		states = slices.DeleteFunc(slices.Clone(f.States), func(st storage.State) bool { return !slices.Contains(states, st) })
	}
	count := "no jobs match"
	if len(states) > 0 {
		f.States = states
		page, err := cl.List(ctx, &runtime.ListOpts{Filter: f, Limit: 1000})
		if err != nil {
			return err
		}
		switch n := len(page.Jobs); {
		case page.Next != "":
			count = fmt.Sprintf("more than %d jobs match", n)
		case n == 1:
			count = "1 job matches"
		case n > 1:
			count = fmt.Sprintf("%d jobs match", n)
		}
	}
	return usagef("%s; nothing changed: add --yes to %s them", count, op.verb)
}

// plural is noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
