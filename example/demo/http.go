package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/jobgen/jobgen/dashboard"
	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// maxBody caps a submit's request body.
const maxBody = 2 << 20

// kindAPI is what the HTTP service does with one job kind.
type kindAPI struct {
	submit func(ctx context.Context, c *runtime.Client, body []byte) (*submitted, error)
	wait   func(ctx context.Context, c *runtime.Client, id int64) (any, error)
}

type submitted struct {
	ID        int64 `json:"id"`
	Duplicate bool  `json:"duplicate"`
}

// apiFor builds the HTTP operations of one kind from its generated Kind,
// through the kind's typed client: the ids of the URLs are plain integers,
// converted to the kind's id type on the way in and back on the way out.
func apiFor[In, Out any](k *runtime.Kind[In, Out]) kindAPI {
	return kindAPI{
		submit: func(ctx context.Context, c *runtime.Client, body []byte) (*submitted, error) {
			var in In
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, badRequest{fmt.Errorf("decode %s arguments: %w", k.Name(), err)}
			}
			h, err := runtime.NewKindClient(k, c).Submit(ctx, in, nil)
			if err != nil {
				return nil, err
			}
			return &submitted{ID: int64(h.ID), Duplicate: h.Duplicate}, nil
		},
		wait: func(ctx context.Context, c *runtime.Client, id int64) (any, error) {
			return runtime.NewKindClient(k, c).WaitFor(ctx, runtime.ID[In](id))
		},
	}
}

// kinds maps the URL names of the example's kinds to their operations.
var kinds = map[string]kindAPI{
	example.ResizeKind.Name():      apiFor(example.ResizeKind),
	example.ReportKind.Name():      apiFor(example.ReportKind),
	example.SendMessageKind.Name(): apiFor(example.SendMessageKind),
	example.CrunchKind.Name():      apiFor(example.CrunchKind),
}

type badRequest struct{ error }

// newHandler returns the HTTP API over client, with metrics on /metrics
// and dash (the dashboard over the same client) under /dashboard/, where /
// redirects.
func newHandler(client *runtime.Client, metrics, dash http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	// A real service puts its authentication middleware around dash here.
	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", dash))
	mux.Handle("GET /{$}", http.RedirectHandler("/dashboard/", http.StatusSeeOther))
	mux.HandleFunc("POST /jobs/{kind}", func(w http.ResponseWriter, r *http.Request) {
		api, ok := kinds[r.PathValue("kind")]
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("unknown job kind %q", r.PathValue("kind")))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, err)
			return
		}
		res, err := api.submit(r.Context(), client, body)
		if err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		writeJSON(w, http.StatusAccepted, res)
	})
	mux.HandleFunc("GET /jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := jobID(w, r)
		if !ok {
			return
		}
		job, err := client.Get(r.Context(), id)
		if err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		writeJSON(w, http.StatusOK, jobView(job))
	})
	mux.HandleFunc("GET /jobs/{id}/wait", func(w http.ResponseWriter, r *http.Request) {
		id, ok := jobID(w, r)
		if !ok {
			return
		}
		timeout := 30 * time.Second
		if s := r.URL.Query().Get("timeout"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 || d > 10*time.Minute {
				writeError(w, http.StatusBadRequest, fmt.Errorf("timeout %q: want a duration up to 10m", s))
				return
			}
			timeout = d
		}
		job, err := client.Get(r.Context(), id)
		if err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		api, ok := kinds[job.Kind]
		if !ok {
			writeError(w, http.StatusConflict, fmt.Errorf("job %d is of kind %q, which this service does not know", id, job.Kind))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		out, err := api.wait(ctx, client, id)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			writeError(w, http.StatusGatewayTimeout, fmt.Errorf("job %d has not finished after %v", id, timeout))
		case err != nil:
			writeError(w, statusOf(err), err)
		default:
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "state": storage.StateCompleted, "output": out})
		}
	})
	mux.HandleFunc("POST /jobs/{id}/abort", func(w http.ResponseWriter, r *http.Request) {
		id, ok := jobID(w, r)
		if !ok {
			return
		}
		if err := client.Abort(r.Context(), id); err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "abort": "accepted"})
	})
	return mux
}

// jobView is the JSON form of a stored job; arguments and output stay out
// (the wait endpoint returns the typed output).
func jobView(j *storage.Job) map[string]any {
	v := map[string]any{
		"id": j.ID, "kind": j.Kind, "queue": j.Queue, "state": j.State,
		"attempt": j.Attempt, "max_attempts": j.MaxAttempts, "created_at": j.CreatedAt,
	}
	if j.ErrorMessage != "" {
		v["error"], v["error_code"] = firstLine(j.ErrorMessage), j.ErrorCode
	}
	if !j.FinishedAt.IsZero() {
		v["finished_at"] = j.FinishedAt
	}
	return v
}

func jobID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("job id %q: want a positive integer", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// statusOf maps the runtime's typed errors to HTTP statuses.
func statusOf(err error) int {
	var br badRequest
	switch {
	case errors.As(err, &br), errors.Is(err, runtime.ErrInvalidName), errors.Is(err, runtime.ErrInvalidOption), errors.Is(err, runtime.ErrPayloadTooLarge):
		return http.StatusBadRequest
	case errors.Is(err, runtime.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, runtime.ErrFinished), errors.Is(err, runtime.ErrFailed), errors.Is(err, runtime.ErrAborted):
		return http.StatusConflict
	case errors.Is(err, runtime.ErrServerClosed):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": firstLine(err.Error())})
}

// serve runs the HTTP API over client, with metrics and the dashboard,
// until ctx ends.
func serve(ctx context.Context, addr string, client *runtime.Client, metrics http.Handler, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	dash, err := dashboard.New(client, nil)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	defer dash.Close()
	hs := &http.Server{Handler: newHandler(client, metrics, dash), ReadHeaderTimeout: 10 * time.Second}
	hs.RegisterOnShutdown(func() { dash.Close() }) // its event streams end only so
	fmt.Fprintf(stdout, "serving on http://%s (the dashboard at /dashboard/; POST /jobs/{kind}, GET /jobs/{id}, GET /jobs/{id}/wait, POST /jobs/{id}/abort, GET /metrics)\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "demo: shutdown: %v\n", err)
		return 1
	}
	return 0
}
