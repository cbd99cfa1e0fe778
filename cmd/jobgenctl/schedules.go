package main

import (
	"context"
	"flag"
	"strconv"
	"time"
)

var schedulesCommands = []*command{
	{
		name:    "schedules list",
		summary: "list the schedules of periodic jobs and their next run",
		help: `Lists every stored schedule in name order: its kind and queue, its spec
(an interval as "@every 15m0s" or a cron expression) and time zone, its
policies for overlapping and missed ticks, when it next ticks and the job
its latest tick inserted. A paused queue's schedules still tick: their
jobs wait in the queue.

JSON: {"schedules": [{"name", "kind", "queue", "spec", "time_zone",
"overlap", "missed", "next_at", "last_job_id", "created_at",
"updated_at"}]} (times RFC 3339 in UTC; last_job_id 0 before the first
tick).

Examples:

	jobgenctl schedules list --dsn jobs.db
	jobgenctl schedules list --json`,
		setup: schedulesList,
	},
}

// scheduleJSON is a schedule as schedules list --json prints it.
type scheduleJSON struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Queue     string    `json:"queue"`
	Spec      string    `json:"spec"`
	TimeZone  string    `json:"time_zone"`
	Overlap   string    `json:"overlap"`
	Missed    string    `json:"missed"`
	NextAt    time.Time `json:"next_at"`
	LastJobID int64     `json:"last_job_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// schedulesList is "schedules list".
func schedulesList(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
	var c connFlags
	var o outFlags
	c.register(fs)
	o.register(fs)
	return func(ctx context.Context, args []string) error {
		if err := noArgs(args); err != nil {
			return err
		}
		cl, done, err := a.client(ctx, &c)
		if err != nil {
			return err
		}
		defer done()
		scs, err := cl.ListSchedules(ctx)
		if err != nil {
			return err
		}
		if o.json {
			out := make([]scheduleJSON, len(scs))
			for i, s := range scs {
				out[i] = scheduleJSON{s.Name, s.Kind, s.Queue, s.Spec, s.TimeZone, s.Overlap, s.Missed,
					s.NextAt.UTC(), s.LastJobID, s.CreatedAt.UTC(), s.UpdatedAt.UTC()}
			}
			return writeJSON(a.stdout, struct {
				Schedules []scheduleJSON `json:"schedules"`
			}{out})
		}
		t := newTable(a.stdout)
		t.row("SCHEDULE", "KIND", "QUEUE", "SPEC", "TIME ZONE", "OVERLAP", "MISSED", "NEXT AT", "LAST JOB")
		for _, s := range scs {
			last := "-"
			if s.LastJobID != 0 {
				last = strconv.FormatInt(s.LastJobID, 10)
			}
			t.row(cell(s.Name), cell(s.Kind), cell(s.Queue), cell(s.Spec), cell(s.TimeZone), cell(s.Overlap),
				cell(s.Missed), textTime(s.NextAt), last)
		}
		return t.flush()
	}
}
