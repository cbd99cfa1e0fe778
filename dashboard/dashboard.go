package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// Options tunes a dashboard. A nil *Options, like the zero Options, serves
// every page and action with the defaults.
type Options struct {
	// ReadOnly hides every action (abort, retry, delete, pause, resume,
	// remove a schedule) and refuses every state-changing request with 403
	// Forbidden.
	ReadOnly bool
	// TrustedOrigins lists origins ("https://admin.example.com") whose
	// cross-origin POSTs are accepted, for a dashboard behind a proxy that
	// serves it under another origin. The dashboard's own origin needs no
	// entry.
	TrustedOrigins []string
	// RefreshInterval is how often an open live page reads storage when no
	// event has told it of a change (changes made by other processes are
	// not events here). Defaults to 5s.
	RefreshInterval time.Duration
	// Logger receives the errors the pages do not show (storage errors are
	// shown as "internal error" only). Defaults to slog.Default().
	Logger *slog.Logger
}

// defaultRefresh is Options.RefreshInterval's default.
const defaultRefresh = 5 * time.Second

// minRefresh is the shortest time between two storage reads of one live
// page, however many events arrive.
const minRefresh = time.Second

// pageSize is the number of jobs on one page of the jobs list.
const pageSize = 50

//go:embed templates static
var files embed.FS

// Handler is the dashboard: an http.Handler over a runtime.Client. Mount it
// under any prefix with http.StripPrefix; its links and forms are relative
// to the mount point. Close it when done to end its event subscription.
type Handler struct {
	client  *runtime.Client
	opts    Options
	logger  *slog.Logger
	pages   map[string]*template.Template
	version string // of the embedded assets, for cache busting
	rates   *throughput
	now     func() time.Time
	serve   http.Handler
	cancel  func()
	// closed ends the open event streams once Close is called.
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns a dashboard over client. It subscribes to the client's events
// at once, to count the jobs that finish per minute; Close ends that.
func New(client *runtime.Client, opts *Options) (*Handler, error) {
	if client == nil {
		return nil, errors.New("dashboard: nil client")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.RefreshInterval < 0 {
		return nil, fmt.Errorf("dashboard: negative RefreshInterval %v", o.RefreshInterval)
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = defaultRefresh
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	h := &Handler{client: client, opts: o, logger: o.Logger, now: time.Now, closed: make(chan struct{})}
	var err error
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if h.version, err = assetVersion(); err != nil {
		return nil, err
	}
	cop := http.NewCrossOriginProtection()
	for _, origin := range o.TrustedOrigins {
		if err := cop.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("dashboard: trusted origin: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusForbidden, errors.New("cross-origin request refused"))
	}))
	h.serve = cop.Handler(h.routes())
	h.rates = newThroughput(h.now())
	h.cancel = client.Subscribe(h.rates.observe)
	return h, nil
}

// Close ends the dashboard's event subscription and its open event
// streams (the pages reconnect to the next server). An event stream is a
// request that does not end by itself, so call Close before
// http.Server.Shutdown, or register it with RegisterOnShutdown.
func (h *Handler) Close() error {
	h.closeOnce.Do(func() {
		h.cancel()
		close(h.closed)
	})
	return nil
}

// ServeHTTP serves the dashboard's pages, events, assets and actions.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// http.StripPrefix with a prefix ending in "/" leaves no leading slash.
	if !strings.HasPrefix(r.URL.Path, "/") {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = "/"+u.Path, ""
		r2.URL = &u
		r = r2
	}
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'self'; frame-ancestors 'none'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	h.serve.ServeHTTP(w, r)
}

// routes returns the dashboard's routes, paths relative to the mount point.
func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.queuesPage)
	mux.HandleFunc("GET /queues/events", h.queuesEvents)
	mux.HandleFunc("GET /jobs", h.jobsPage)
	mux.HandleFunc("GET /jobs/{id}", h.jobPage)
	mux.HandleFunc("GET /jobs/{id}/events", h.jobEvents)
	mux.HandleFunc("POST /jobs/{id}/{action}", h.jobAction)
	mux.HandleFunc("POST /queues/{action}", h.queueAction)
	mux.HandleFunc("GET /schedules", h.schedulesPage)
	mux.HandleFunc("POST /schedules/{name}/remove", h.scheduleRemove)
	static, _ := fs.Sub(files, "static")
	assets := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		assets.ServeHTTP(w, r)
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, errors.New("no such page"))
	})
	return mux
}

// assetVersion returns a short hash of the embedded assets, which the pages
// add to the assets' URLs so a new build is never served a stale copy.
func assetVersion() (string, error) {
	sum := sha256.New()
	err := fs.WalkDir(files, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		sum.Write([]byte(path))
		sum.Write(b)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("dashboard: assets: %w", err)
	}
	return hex.EncodeToString(sum.Sum(nil)[:6]), nil
}

// base returns the relative URL of the mount point as seen from the
// request's page: "./" at the top, "../" one level down, and so on.
func base(r *http.Request) string {
	depth := strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if depth == 0 {
		return "./"
	}
	return strings.Repeat("../", depth)
}

// page is what every page's template gets.
type page struct {
	Title    string
	Nav      string // the menu entry to mark
	Base     string
	Version  string
	ReadOnly bool
	Flash    string
	// Live is the URL, relative to Base, of the page's event stream; empty
	// for a page that does not update.
	Live string
	Data any
}

// render writes the page named name with data, or an error page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Base, p.Version, p.ReadOnly = base(r), h.version, h.opts.ReadOnly
	if p.Flash == "" {
		p.Flash = flashes[r.URL.Query().Get("done")]
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.logger.Error("dashboard: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// flashes are the notes a page shows after an action redirected to it,
// keyed by the redirect's done parameter.
var flashes = map[string]string{
	"abort":  "Abort requested.",
	"retry":  "Job retried: it is pending again.",
	"delete": "Job deleted.",
	"pause":  "Queue paused: no server starts its jobs until it is resumed.",
	"resume": "Queue resumed.",
	"remove": "Schedule removed: no tick inserts a job for it any more, until a server that registers it starts.",
}

// errorView is the error page's data.
type errorView struct {
	Status  int
	Message string
}

// fail writes an error page. Storage and other unexpected errors are
// logged and shown only as "internal error": their text may name a host,
// a user or worse.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	msg := err.Error()
	if status >= 500 {
		h.logger.Error("dashboard: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error (see the service's log)"
	}
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Data: errorView{Status: status, Message: msg}})
}

// statusOf maps the runtime's typed errors to HTTP statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, runtime.ErrNotFound), errors.Is(err, runtime.ErrScheduleNotFound):
		return http.StatusNotFound
	case errors.Is(err, runtime.ErrNotRetryable), errors.Is(err, runtime.ErrNotDeletable), errors.Is(err, runtime.ErrFinished):
		return http.StatusConflict
	case errors.Is(err, runtime.ErrInvalidName), errors.Is(err, runtime.ErrUnknownState), errors.Is(err, runtime.ErrInvalidCursor):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
