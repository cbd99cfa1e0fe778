package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// queueRow is one queue of the queues page.
type queueRow struct {
	Name     string
	Paused   bool
	PausedAt time.Time
	// Counts holds the queue's jobs per state, in storage.States order.
	Counts []int64
	// OldestWait is how long the oldest ready pending job has waited; zero
	// when none is ready.
	OldestWait time.Duration
	Rate       rate
}

// queuesView is the queues page's table.
type queuesView struct {
	States   []storage.State
	Queues   []queueRow
	Now      time.Time
	ReadOnly bool
}

// queues reads the queues page's table: the queues with their pause
// state (Queues) and their counts per state (Count), both at once.
func (h *Handler) queues(ctx context.Context) (*queuesView, error) {
	var counts *runtime.Counts
	var countErr error
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		counts, countErr = h.client.Count(ctx)
	}()
	infos, err := h.client.Queues(ctx)
	<-counted
	if err = cmp.Or(err, countErr); err != nil {
		return nil, err
	}
	now := h.now()
	v := &queuesView{States: storage.States, Now: now, ReadOnly: h.opts.ReadOnly}
	index := make(map[string]int, len(infos))
	for _, q := range infos {
		row := queueRow{Name: q.Name, Paused: q.Paused, PausedAt: q.PausedAt, Counts: make([]int64, len(storage.States)), Rate: h.rates.rate(q.Name, now)}
		if !q.OldestReady.IsZero() {
			row.OldestWait = max(0, counts.Now.Sub(q.OldestReady))
		}
		index[q.Name] = len(v.Queues)
		v.Queues = append(v.Queues, row)
	}
	for _, g := range counts.Queues {
		i, ok := index[g.Name]
		if !ok { // a queue whose first job arrived between the two reads
			continue
		}
		if s := slices.Index(storage.States, g.State); s >= 0 {
			v.Queues[i].Counts[s] = g.Count
		}
	}
	return v, nil
}

func (h *Handler) queuesPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.queues(r.Context())
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	h.render(w, r, http.StatusOK, "queues", page{Title: "Queues", Nav: "queues", Live: "queues/events", Data: v})
}

// jobsView is the jobs page's data.
type jobsView struct {
	States []storage.State
	// The filter as given.
	State, Kind, Queue, Key string
	Jobs                    []*storage.Job
	Now                     time.Time
	// Next is the URL of the next page; empty on the last page.
	Next template.URL
	// Paged is set past the first page.
	Paged bool
}

func (h *Handler) jobsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := &jobsView{States: storage.States, State: q.Get("state"), Kind: q.Get("kind"), Queue: q.Get("queue"), Key: q.Get("key"), Paged: q.Get("cursor") != ""}
	opts := &runtime.ListOpts{Limit: pageSize, Cursor: q.Get("cursor")}
	if v.State != "" {
		st, err := storage.ParseState(v.State)
		if err != nil {
			h.fail(w, r, http.StatusBadRequest, err)
			return
		}
		opts.Filter.States = []storage.State{st}
	}
	if v.Kind != "" {
		opts.Filter.Kinds = []string{v.Kind}
	}
	if v.Queue != "" {
		opts.Filter.Queues = []string{v.Queue}
	}
	if v.Key != "" {
		// Unique keys deduplicate a kind's active jobs, and only those are
		// indexed by key: a search elsewhere would read every finished job.
		if v.Kind == "" || len(opts.Filter.States) == 1 && opts.Filter.States[0].Terminal() {
			h.fail(w, r, http.StatusBadRequest, errors.New("a search by unique key needs the kind and finds pending and running jobs only (keys are unique per kind among active jobs)"))
			return
		}
		opts.Filter.UniqueKey = v.Key
		if len(opts.Filter.States) == 0 {
			opts.Filter.States = []storage.State{storage.StatePending, storage.StateRunning}
		}
	}
	res, err := h.client.List(r.Context(), opts)
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	v.Jobs, v.Now = res.Jobs, h.now()
	if res.Next != "" {
		next := url.Values{}
		for k, val := range map[string]string{"state": v.State, "kind": v.Kind, "queue": v.Queue, "key": v.Key, "cursor": res.Next} {
			if val != "" {
				next.Set(k, val)
			}
		}
		v.Next = template.URL("jobs?" + next.Encode()) // built by url.Values: nothing in it needs escaping
	}
	h.render(w, r, http.StatusOK, "jobs", page{Title: "Jobs", Nav: "jobs", Data: v})
}

// jobView is the job page's data.
type jobView struct {
	Job *storage.Job
	Now time.Time
	// The actions the job's state allows.
	CanAbort, CanRetry, CanDelete bool
}

func (h *Handler) jobPage(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	job, err := h.client.Get(r.Context(), id)
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	st := job.State
	v := &jobView{
		Job: job, Now: h.now(),
		CanAbort:  st == storage.StatePending || st == storage.StateRunning,
		CanRetry:  st == storage.StateFailed || st == storage.StateAborted,
		CanDelete: st != storage.StateRunning,
	}
	p := page{Title: fmt.Sprintf("Job %d", id), Nav: "jobs", Data: v}
	if !st.Terminal() {
		p.Live = fmt.Sprintf("jobs/%d/events?", id) + url.Values{"seen": {stamp(job)}}.Encode()
	}
	h.render(w, r, http.StatusOK, "job", p)
}

// jobID returns the id in the request's path.
func jobID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("a job id is a positive integer")
	}
	return id, nil
}

// schedulesView is the schedules page's data.
type schedulesView struct {
	Schedules []*storage.Schedule
	Now       time.Time
}

func (h *Handler) schedulesPage(w http.ResponseWriter, r *http.Request) {
	scs, err := h.client.ListSchedules(r.Context())
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	h.render(w, r, http.StatusOK, "schedules", page{Title: "Schedules", Nav: "schedules", Data: &schedulesView{Schedules: scs, Now: h.now()}})
}
