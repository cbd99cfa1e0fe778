package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// stream writes server-sent events to one open page.
type stream struct {
	w  io.Writer
	rc *http.ResponseController
}

// startStream answers r with an event stream. Its events are:
// "hello" once the stream listens, "queues" (the queues table's HTML),
// "progress" (a running job's report as JSON) and "state" (the job
// changed: the page reloads).
func (h *Handler) startStream(w http.ResponseWriter) *stream {
	rc := http.NewResponseController(w)
	// A stream outlives any write timeout the embedding server has.
	_ = rc.SetWriteDeadline(time.Time{})
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no") // a proxy must not hold events back
	w.WriteHeader(http.StatusOK)
	s := &stream{w: w, rc: rc}
	fmt.Fprintf(w, "retry: %d\n\n", h.opts.RefreshInterval.Milliseconds())
	return s
}

// send writes one event and reports whether the page is still there.
func (s *stream) send(event, data string) bool {
	var b strings.Builder
	b.WriteString("event: " + event + "\n")
	for line := range strings.SplitSeq(strings.ReplaceAll(data, "\r", ""), "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		return false
	}
	return s.rc.Flush() == nil
}

// latch sends on a one-slot channel without blocking.
func latch(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// queuesEvents streams the queues table to an open queues page after every
// change this process sees and every RefreshInterval when nothing changed,
// to show what other processes did. The reads are spaced by at least
// minRefresh and by ten times the last read's duration, so that on a big
// table, where counting takes long, a page keeps storage busy a tenth of
// the time at most.
func (h *Handler) queuesEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	changed := make(chan struct{}, 1)
	cancel := h.client.Subscribe(func(ev runtime.Event) {
		if ev.Kind != runtime.EventProgress {
			latch(changed)
		}
	})
	defer cancel()
	s := h.startStream(w)
	if !s.send("hello", "") {
		return
	}
	var last time.Time     // when the last read started
	var took time.Duration // how long it took
	timer := time.NewTimer(h.opts.RefreshInterval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.closed:
			return
		case <-changed:
			if wait := max(minRefresh, 10*took) - time.Since(last); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return
				case <-h.closed:
					return
				}
			}
		case <-timer.C:
		}
		last = time.Now()
		v, err := h.queues(ctx)
		took = time.Since(last)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			h.logger.Error("dashboard: queues", "err", err)
		} else {
			var buf bytes.Buffer
			if err := h.pages["queues"].ExecuteTemplate(&buf, "table", v); err != nil {
				h.logger.Error("dashboard: render queues", "err", err)
				return
			}
			if !s.send("queues", buf.String()) {
				return
			}
		}
		timer.Reset(max(h.opts.RefreshInterval, 10*took))
	}
}

// stamp names what a job page shows of the job's life: state, attempt and
// whether an abort was requested. A page whose job's stamp changed reloads.
func stamp(j *storage.Job) string {
	s := fmt.Sprintf("%s.%d", j.State, j.Attempt)
	if !j.AbortRequestedAt.IsZero() {
		s += ".abort"
	}
	return s
}

// jobEvents streams an open job page its job's progress reports, and a
// "state" event once the job is no longer as the page shows it (its seen
// parameter, a stamp): at an event of the job, when its progress ends, or
// at a read every RefreshInterval.
func (h *Handler) jobEvents(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	ctx := r.Context()
	seen := r.URL.Query().Get("seen")
	progress, cancelProgress := h.client.SubscribeProgress(id)
	defer cancelProgress()
	changed := make(chan struct{}, 1)
	cancel := h.client.Subscribe(func(ev runtime.Event) {
		if ev.JobID == id && ev.Kind != runtime.EventProgress {
			latch(changed)
		}
	})
	defer cancel()
	s := h.startStream(w)
	if !s.send("hello", "") {
		return
	}
	latch(changed) // the job may have changed since the page was read
	timer := time.NewTimer(h.opts.RefreshInterval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.closed:
			return
		case p, ok := <-progress:
			if ok {
				b, _ := json.Marshal(struct {
					Percent float64 `json:"percent"`
					Message string  `json:"message"`
				}{p.Percent, p.Message})
				if !s.send("progress", string(b)) {
					return
				}
				continue
			}
			progress = nil // the job finished, or its subscription ended
		case <-changed:
		case <-timer.C:
		}
		job, err := h.client.Get(ctx, id)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && statusOf(err) == http.StatusNotFound:
			s.send("state", "deleted")
			return
		case err != nil:
			h.logger.Error("dashboard: job events", "job_id", id, "err", err)
		case stamp(job) != seen:
			s.send("state", stamp(job))
			return
		}
		timer.Reset(h.opts.RefreshInterval)
	}
}
