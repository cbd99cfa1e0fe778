package main

import (
	"context"
	"flag"
	"slices"
	"strconv"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

var statsCommand = &command{
	name:    "stats",
	summary: "count jobs per queue and state and per kind and state",
	help: `Prints two tables: the jobs of each queue per state, with how long the
oldest ready pending job of the queue has waited, and the jobs of each kind
per state.

A queue's pending and running counts are exact. On a large table the
other counts stop at a limit: such a count is a lower bound, shown with a
"+" (in JSON, its state is listed in "at_least").

JSON: {"now", "queues": [{"name", "pending", "running", "completed",
"failed", "aborted", "at_least", "oldest_ready",
"oldest_ready_age_seconds"}], "kinds": [{"name", "pending", "running",
"completed", "failed", "aborted", "at_least"}]} (oldest_ready and its age
are null when no job is ready; at_least is left out when empty).

Examples:

	jobgenctl stats --dsn jobs.db
	jobgenctl stats --json`,
	setup: stats,
}

// stateCounts are one group's jobs per state, as stats --json prints them.
type stateCounts struct {
	Name      string `json:"name"`
	Pending   int64  `json:"pending"`
	Running   int64  `json:"running"`
	Completed int64  `json:"completed"`
	Failed    int64  `json:"failed"`
	Aborted   int64  `json:"aborted"`
	// AtLeast lists the states whose counts are lower bounds.
	AtLeast []storage.State `json:"at_least,omitempty"`
}

// add counts the jobs of g.
func (c *stateCounts) add(g storage.GroupCount) {
	if g.AtLeast {
		c.AtLeast = append(c.AtLeast, g.State)
	}
	st, n := g.State, g.Count
	switch st {
	case storage.StatePending:
		c.Pending += n
	case storage.StateRunning:
		c.Running += n
	case storage.StateCompleted:
		c.Completed += n
	case storage.StateFailed:
		c.Failed += n
	case storage.StateAborted:
		c.Aborted += n
	}
}

// cells are the counts for a table row.
func (c *stateCounts) cells() []string {
	var out []string
	for _, v := range []struct {
		st storage.State
		n  int64
	}{
		{storage.StatePending, c.Pending}, {storage.StateRunning, c.Running}, {storage.StateCompleted, c.Completed},
		{storage.StateFailed, c.Failed}, {storage.StateAborted, c.Aborted},
	} {
		cell := strconv.FormatInt(v.n, 10)
		if slices.Contains(c.AtLeast, v.st) {
			cell += "+"
		}
		out = append(out, cell)
	}
	return out
}

// queueStats is one queue as stats --json prints it.
type queueStats struct {
	stateCounts
	OldestReady    *time.Time `json:"oldest_ready"`
	OldestReadyAge *float64   `json:"oldest_ready_age_seconds"`
}

// groups turns the counts of groups into one row per group, in the
// counts' order (by name).
func groups(counts []storage.GroupCount) []*stateCounts {
	var out []*stateCounts
	for _, g := range counts {
		if len(out) == 0 || out[len(out)-1].Name != g.Name {
			out = append(out, &stateCounts{Name: g.Name})
		}
		out[len(out)-1].add(g)
	}
	return out
}

// stats is "stats".
func stats(a *app, fs *flag.FlagSet) func(context.Context, []string) error {
	return report(a, fs, func(ctx context.Context, cl *runtime.Client, json bool) error {
		counts, err := cl.Count(ctx)
		if err != nil {
			return err
		}
		ready := make(map[string]time.Time, len(counts.Ready))
		for _, r := range counts.Ready {
			ready[r.Queue] = r.OldestReady
		}
		var queues []queueStats
		for _, g := range groups(counts.Queues) {
			q := queueStats{stateCounts: *g}
			if at, ok := ready[g.Name]; ok {
				age := counts.Now.Sub(at).Seconds()
				q.OldestReady, q.OldestReadyAge = jsonTime(at), &age
			}
			queues = append(queues, q)
		}
		kinds := groups(counts.Kinds)
		if json {
			return writeJSON(a.stdout, struct {
				Now    *time.Time     `json:"now"`
				Queues []queueStats   `json:"queues"`
				Kinds  []*stateCounts `json:"kinds"`
			}{jsonTime(counts.Now), orEmpty(queues), orEmpty(kinds)})
		}
		t := newTable(a.stdout)
		t.row("QUEUE", "PENDING", "RUNNING", "COMPLETED", "FAILED", "ABORTED", "OLDEST READY WAITED")
		for _, q := range queues {
			waited := ""
			if q.OldestReadyAge != nil {
				waited = time.Duration(*q.OldestReadyAge * float64(time.Second)).Round(time.Second).String()
			}
			t.row(append(append([]string{q.Name}, q.cells()...), waited)...)
		}
		t.row()
		t.row("KIND", "PENDING", "RUNNING", "COMPLETED", "FAILED", "ABORTED")
		for _, k := range kinds {
			t.row(append([]string{k.Name}, k.cells()...)...)
		}
		return t.flush()
	})
}

// orEmpty is s, or an empty slice for nil, so JSON shows [] rather than null.
func orEmpty[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}
