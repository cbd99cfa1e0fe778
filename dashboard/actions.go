package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// errReadOnly refuses an action of a read-only dashboard.
var errReadOnly = errors.New("this dashboard is read-only")

// jobAction serves POST jobs/{id}/{abort,retry,delete}. The cross-origin
// protection has run before it.
func (h *Handler) jobAction(w http.ResponseWriter, r *http.Request) {
	if h.opts.ReadOnly {
		h.fail(w, r, http.StatusForbidden, errReadOnly)
		return
	}
	id, err := jobID(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	ctx := r.Context()
	action := r.PathValue("action")
	to := fmt.Sprintf("jobs/%d", id)
	switch action {
	case "abort":
		err = h.client.Abort(ctx, id)
	case "retry":
		_, err = h.client.Retry(ctx, id, nil)
	case "delete":
		// A pending job is deleted only when its page asked for that.
		err = h.client.Delete(ctx, id, &runtime.DeleteOpts{Pending: r.PostFormValue("pending") == "1"})
		to = "jobs"
	default:
		h.fail(w, r, http.StatusNotFound, fmt.Errorf("no action %q", action))
		return
	}
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	h.redirect(w, r, to, action)
}

// queueAction serves POST queues/{pause,resume} with the queue in the form.
func (h *Handler) queueAction(w http.ResponseWriter, r *http.Request) {
	if h.opts.ReadOnly {
		h.fail(w, r, http.StatusForbidden, errReadOnly)
		return
	}
	name := r.PostFormValue("queue")
	if !storage.ValidName(name) {
		h.fail(w, r, http.StatusBadRequest, fmt.Errorf("queue %q: want %s", name, storage.NameRule))
		return
	}
	var err error
	action := r.PathValue("action")
	switch action {
	case "pause":
		err = h.client.PauseQueue(r.Context(), name)
	case "resume":
		err = h.client.ResumeQueue(r.Context(), name)
	default:
		h.fail(w, r, http.StatusNotFound, fmt.Errorf("no action %q", action))
		return
	}
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	h.redirect(w, r, "", action)
}

// scheduleRemove serves POST schedules/{name}/remove.
func (h *Handler) scheduleRemove(w http.ResponseWriter, r *http.Request) {
	if h.opts.ReadOnly {
		h.fail(w, r, http.StatusForbidden, errReadOnly)
		return
	}
	name := r.PathValue("name")
	if !storage.ValidName(name) {
		h.fail(w, r, http.StatusBadRequest, fmt.Errorf("schedule %q: want %s", name, storage.NameRule))
		return
	}
	if err := h.client.RemoveSchedule(r.Context(), name); err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	h.redirect(w, r, "schedules", "remove")
}

// redirect sends the browser, after an action, to the page at to (relative
// to the mount point) with the action's note. The Location is relative, so
// it works under any prefix (http.Redirect would make it absolute from the
// stripped path).
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, to, done string) {
	w.Header().Set("Location", base(r)+to+"?"+url.Values{"done": {done}}.Encode())
	w.WriteHeader(http.StatusSeeOther)
}
