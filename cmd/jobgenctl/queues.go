package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

var queuesCommands = []*command{
	{
		name:    "queues list",
		summary: "list the queues: paused or not, pending and running jobs",
		help: `Lists every queue that has jobs or was ever paused, in name order, with
its pending and running jobs and the earliest run-after time among its
ready pending jobs (how long the oldest has waited).

JSON: {"queues": [{"name", "paused", "paused_at", "pending", "running",
"oldest_ready"}]} (times RFC 3339 in UTC, null when not set).

Examples:

	jobgenctl queues list --dsn jobs.db
	jobgenctl queues list --json`,
		setup: queuesList,
	},
	{
		name:    "queues pause",
		args:    "<queue>...",
		summary: "pause queues on every server",
		help: `No server, in any process, starts a job of a paused queue until it is
resumed; jobs already running finish, and submits are still accepted.
A queue that has no jobs yet may be paused. Pausing a paused queue does
nothing.

JSON: {"paused": [<queue>...]}.

Examples:

	jobgenctl queues pause --dsn jobs.db email
	jobgenctl queues pause reports exports`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
			return queueOp(a, fs, "paused", (*runtime.Client).PauseQueue)
		},
	},
	{
		name:    "queues resume",
		args:    "<queue>...",
		summary: "resume paused queues",
		help: `Servers that work a resumed queue start its jobs again at once where the
backend notifies them (PostgreSQL), otherwise at their next poll.
Resuming a queue that is not paused does nothing.

JSON: {"resumed": [<queue>...]}.

Examples:

	jobgenctl queues resume --dsn jobs.db email`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
			return queueOp(a, fs, "resumed", (*runtime.Client).ResumeQueue)
		},
	},
}

// queueJSON is a queue as queues list --json prints it.
type queueJSON struct {
	Name        string     `json:"name"`
	Paused      bool       `json:"paused"`
	PausedAt    *time.Time `json:"paused_at"`
	Pending     int64      `json:"pending"`
	Running     int64      `json:"running"`
	OldestReady *time.Time `json:"oldest_ready"`
}

// queuesList is "queues list".
func queuesList(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
	return report(a, fs, func(ctx context.Context, cl *runtime.Client, json bool) error {
		qs, err := cl.Queues(ctx)
		if err != nil {
			return err
		}
		if json {
			out := make([]queueJSON, len(qs))
			for i, q := range qs {
				out[i] = queueJSON{q.Name, q.Paused, jsonTime(q.PausedAt), q.Pending, q.Running, jsonTime(q.OldestReady)}
			}
			return writeJSON(a.stdout, struct {
				Queues []queueJSON `json:"queues"`
			}{out})
		}
		t := newTable(a.stdout)
		t.row("QUEUE", "PAUSED", "PAUSED AT", "PENDING", "RUNNING", "OLDEST READY")
		for _, q := range qs {
			t.row(q.Name, yesNo(q.Paused), textTime(q.PausedAt), strconv.FormatInt(q.Pending, 10),
				strconv.FormatInt(q.Running, 10), textTime(q.OldestReady))
		}
		return t.flush()
	})
}

// queueOp sets up pause or resume (past names the change): it changes
// every queue named, in order, and stops at the first failure.
func queueOp(a *app, fs *flag.FlagSet, past string, change func(*runtime.Client, context.Context, string) error) func(context.Context, []string) error {
	var c connFlags
	var o outFlags
	c.register(fs)
	o.register(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return usagef("name at least one queue")
		}
		cl, done, err := a.client(ctx, &c)
		if err != nil {
			return err
		}
		defer done()
		for _, name := range args {
			if err := change(cl, ctx, name); err != nil {
				return err
			}
			if !o.json {
				fmt.Fprintf(a.stdout, "%s queue %s\n", past, name)
			}
		}
		if o.json {
			return writeJSON(a.stdout, map[string][]string{past: args})
		}
		return nil
	}
}
