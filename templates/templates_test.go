package templates

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dave/jennifer/jen"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	resize = Job{
		Name: "Resize", Source: "jobs.go", Kind: "resize", Queue: "media",
		HasPriority: true, Priority: -1, Attempts: 5,
		Timeout: 2 * time.Minute, Backoff: 1500 * time.Millisecond,
		Output: &Type{Path: "example.com/p", PkgName: "p", Name: "ResizeResult"},
		Unique: []Field{{Name: "URL"}, {Name: "Width"}},
	}
	ping  = Job{Name: "Ping", Source: "jobs.go", Kind: "ping", Queue: "default"}
	stamp = Job{
		Name: "Stamp", Source: "stamp.go", Kind: "stamp", Queue: "default",
		Output: &Type{Path: "time", PkgName: "time", Name: "Time"},
	}
	count = Job{
		Name: "Count", Source: "jobs.go", Kind: "count", Queue: "default",
		Output: &Type{Name: "int"},
	}
	export = Job{
		Name: "ExportInvoicesToAccounting", Source: "jobs.go", Kind: "export", Queue: "default",
		Output: &Type{Name: "int"},
	}
	pkg  = Package{Path: "example.com/p", Name: "p", Jobs: []Job{ping, resize, stamp}}
	pair = Package{Path: "example.com/p", Name: "p", Jobs: []Job{ping, resize}}
)

// TestFragments renders each emitter alone into a fresh file.
func TestFragments(t *testing.T) {
	for _, tc := range []struct {
		name string
		emit func(f *jen.File)
		want string
	}{
		{
			name: "Kind with every option",
			emit: func(f *jen.File) { Kind(f, resize) },
			want: `package p

import (
	runtime "github.com/jobgen/jobgen/runtime"
	"time"
)

// ResizeKind is the Resize job kind, stored as "resize".
var ResizeKind = runtime.NewKind[Resize, ResizeResult](runtime.KindOpts{
	Name:        "resize",
	Queue:       "media",
	Priority:    -1,
	MaxAttempts: 5,
	Timeout:     2 * time.Minute,
	Backoff:     runtime.ExponentialBackoff(1500 * time.Millisecond),
}).WithUniqueKey(func(j Resize) string {
	return runtime.UniqueKey(j.URL, j.Width)
})
`,
		},
		{
			name: "Kind with defaults only",
			emit: func(f *jen.File) { Kind(f, ping) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// PingKind is the Ping job kind, stored as "ping".
var PingKind = runtime.NewKind[Ping, runtime.NoOutput](runtime.KindOpts{
	Name:  "ping",
	Queue: "default",
})
`,
		},
		{
			name: "Kind with an imported output type",
			emit: func(f *jen.File) { Kind(f, stamp) },
			want: `package p

import (
	runtime "github.com/jobgen/jobgen/runtime"
	"time"
)

// StampKind is the Stamp job kind, stored as "stamp".
var StampKind = runtime.NewKind[Stamp, time.Time](runtime.KindOpts{
	Name:  "stamp",
	Queue: "default",
})
`,
		},
		{
			name: "Kind with a predeclared output type",
			emit: func(f *jen.File) { Kind(f, count) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// CountKind is the Count job kind, stored as "count".
var CountKind = runtime.NewKind[Count, int](runtime.KindOpts{
	Name:  "count",
	Queue: "default",
})
`,
		},
		{
			name: "ID",
			emit: func(f *jen.File) { ID(f, resize) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// ResizeID is the id of a Resize job. Convert a plain id with ResizeID(n) and
// back with int64(id).
type ResizeID = runtime.ID[Resize]
`,
		},
		{
			name: "Handle with output",
			emit: func(f *jen.File) { Handle(f, resize) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// ResizeHandle refers to one submitted Resize job. Submit returns it; the zero
// value is not usable.
type ResizeHandle = runtime.KindHandle[Resize, ResizeResult]
`,
		},
		{
			name: "Handle without output",
			emit: func(f *jen.File) { Handle(f, ping) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// PingHandle refers to one submitted Ping job. Submit returns it; the zero
// value is not usable.
type PingHandle = runtime.NoOutputHandle[Ping]
`,
		},
		{
			name: "Client with output",
			emit: func(f *jen.File) { Client(f, resize) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// ResizeClient submits, aborts and observes Resize jobs.
type ResizeClient = runtime.KindClient[Resize, ResizeResult]

// NewResizeClient returns a ResizeClient that works through c.
func NewResizeClient(c *runtime.Client) ResizeClient {
	return runtime.NewKindClient(ResizeKind, c)
}
`,
		},
		{
			name: "Client without output",
			emit: func(f *jen.File) { Client(f, ping) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// PingClient submits, aborts and observes Ping jobs.
type PingClient = runtime.NoOutputClient[Ping]

// NewPingClient returns a PingClient that works through c.
func NewPingClient(c *runtime.Client) PingClient {
	return runtime.NewNoOutputClient(PingKind, c)
}
`,
		},
		{
			name: "Client of a long name that takes an",
			emit: func(f *jen.File) { Client(f, export) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// ExportInvoicesToAccountingClient submits, aborts and observes
// ExportInvoicesToAccounting jobs.
type ExportInvoicesToAccountingClient = runtime.KindClient[ExportInvoicesToAccounting, int]

// NewExportInvoicesToAccountingClient returns an
// ExportInvoicesToAccountingClient that works through c.
func NewExportInvoicesToAccountingClient(c *runtime.Client) ExportInvoicesToAccountingClient {
	return runtime.NewKindClient(ExportInvoicesToAccountingKind, c)
}
`,
		},
		{
			name: "Handler with output",
			emit: func(f *jen.File) { Handler(f, resize) },
			want: `package p

import (
	"context"
	"errors"
	runtime "github.com/jobgen/jobgen/runtime"
)

// ResizeHandler runs Resize jobs.
type ResizeHandler interface {
	// HandleResize runs one Resize job and returns its output. Return
	// runtime.Permanent(err) to fail without retrying,
	// runtime.RetryAfter(d, err) to retry after d (using an attempt),
	// runtime.Snooze(d) to run again after d without using one; any other
	// error is retried with the kind's backoff until the attempts run out.
	HandleResize(ctx context.Context, job *runtime.Job[Resize]) (ResizeResult, error)
}

// ResizeHandlerFunc adapts a function to ResizeHandler.
type ResizeHandlerFunc func(ctx context.Context, job *runtime.Job[Resize]) (ResizeResult, error)

// HandleResize calls f(ctx, job).
func (f ResizeHandlerFunc) HandleResize(ctx context.Context, job *runtime.Job[Resize]) (ResizeResult, error) {
	return f(ctx, job)
}

// RegisterResizeHandler makes srv run Resize jobs with h. It fails when h is
// nil, the kind is already registered or srv has started.
func RegisterResizeHandler(srv *runtime.Server, h ResizeHandler) error {
	if h == nil {
		return errors.New("register resize: nil handler")
	}
	return ResizeKind.Register(srv, h.HandleResize)
}
`,
		},
		{
			name: "Handler without output",
			emit: func(f *jen.File) { Handler(f, ping) },
			want: `package p

import (
	"context"
	"errors"
	runtime "github.com/jobgen/jobgen/runtime"
)

// PingHandler runs Ping jobs.
type PingHandler interface {
	// HandlePing runs one Ping job. Return runtime.Permanent(err) to fail
	// without retrying, runtime.RetryAfter(d, err) to retry after d (using an
	// attempt), runtime.Snooze(d) to run again after d without using one; any
	// other error is retried with the kind's backoff until the attempts
	// run out.
	HandlePing(ctx context.Context, job *runtime.Job[Ping]) error
}

// PingHandlerFunc adapts a function to PingHandler.
type PingHandlerFunc func(ctx context.Context, job *runtime.Job[Ping]) error

// HandlePing calls f(ctx, job).
func (f PingHandlerFunc) HandlePing(ctx context.Context, job *runtime.Job[Ping]) error {
	return f(ctx, job)
}

// RegisterPingHandler makes srv run Ping jobs with h. It fails when h is nil,
// the kind is already registered or srv has started.
func RegisterPingHandler(srv *runtime.Server, h PingHandler) error {
	if h == nil {
		return errors.New("register ping: nil handler")
	}
	return PingKind.Register(srv, runtime.NoOutputFunc(h.HandlePing))
}
`,
		},
		{
			name: "Handlers",
			emit: func(f *jen.File) { Handlers(f, pair) },
			want: `package p

// Handlers runs every job kind of package p. Register takes one, so a type
// that lacks a handler method is a compile error, not a run-time surprise.
type Handlers interface {
	PingHandler
	ResizeHandler
}
`,
		},
		{
			name: "Register",
			emit: func(f *jen.File) { Register(f, pair) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// Register makes srv run every job kind of package p with h. It stops at the
// first kind that fails to register and returns that error.
func Register(srv *runtime.Server, h Handlers) error {
	if err := RegisterPingHandler(srv, h); err != nil {
		return err
	}
	if err := RegisterResizeHandler(srv, h); err != nil {
		return err
	}
	return nil
}
`,
		},
		{
			name: "Clients",
			emit: func(f *jen.File) { Clients(f, pair) },
			want: `package p

import runtime "github.com/jobgen/jobgen/runtime"

// Clients holds a typed client for every job kind of package p.
type Clients struct {
	// Ping submits, aborts and observes Ping jobs.
	Ping PingClient
	// Resize submits, aborts and observes Resize jobs.
	Resize ResizeClient
}

// NewClients returns the typed clients of package p, all working through c.
func NewClients(c *runtime.Client) Clients {
	return Clients{
		Ping:   NewPingClient(c),
		Resize: NewResizeClient(c),
	}
}
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := jen.NewFilePath("example.com/p")
			tc.emit(f)
			if diff := cmp.Diff(tc.want, fmt.Sprintf("%#v", f)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewFile checks the header and the pinned import names of a whole file.
func TestNewFile(t *testing.T) {
	t.Parallel()
	f := NewFile(pkg, "stamp.go")
	Source(f, pkg, "stamp.go", false)
	got := fmt.Sprintf("%#v", f)
	wantStart := Header + "\n// Source: stamp.go\n\npackage p\n\nimport (\n" +
		"\t\"context\"\n\t\"errors\"\n\t\"github.com/jobgen/jobgen/runtime\"\n\t\"time\"\n)\n"
	if !strings.HasPrefix(got, wantStart) {
		t.Errorf("file starts:\n%s\nwant:\n%s", got[:min(len(got), len(wantStart))], wantStart)
	}
	for _, notWant := range []string{"ResizeKind", "PingKind", "type Handlers"} {
		if strings.Contains(got, notWant) {
			t.Errorf("stamp.go's file has %s, which belongs elsewhere", notWant)
		}
	}
	if !strings.Contains(got, "var StampKind") {
		t.Error("stamp.go's file lacks StampKind")
	}
}

// TestSourceWiring checks that the wiring goes only where it is asked for.
func TestSourceWiring(t *testing.T) {
	t.Parallel()
	for _, pkgLevel := range []bool{false, true} {
		f := NewFile(pkg, "jobs.go")
		Source(f, pkg, "jobs.go", pkgLevel)
		got := fmt.Sprintf("%#v", f)
		for _, decl := range []string{"type Handlers interface", "func Register(", "type Clients struct", "func NewClients("} {
			if strings.Contains(got, decl) != pkgLevel {
				t.Errorf("pkgLevel=%v: has %q = %v", pkgLevel, decl, !pkgLevel)
			}
		}
	}
}

// TestDeterministic renders the same package twice and wants the same bytes.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	render := func() []byte {
		var buf bytes.Buffer
		f := NewFile(pkg, "jobs.go")
		Source(f, pkg, "jobs.go", true)
		if err := f.Render(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if a, b := render(), render(); !bytes.Equal(a, b) {
		t.Errorf("renders differ:\n%s", cmp.Diff(string(a), string(b)))
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		time.Hour:                     "time.Hour",
		90 * time.Minute:              "90 * time.Minute",
		2*time.Hour + time.Second:     "7201 * time.Second",
		1500 * time.Millisecond:       "1500 * time.Millisecond",
		time.Microsecond:              "time.Microsecond",
		time.Second + time.Nanosecond: "1000000001 * time.Nanosecond",
	} {
		if got := fmt.Sprintf("%#v", duration(d)); got != want {
			t.Errorf("duration(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestWrap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text  string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"short", 10, []string{"short"}},
		{"one two three four", 9, []string{"one two", "three", "four"}},
		{"a widow stays with company", 20, []string{"a widow stays", "with company"}},
		{"an unbreakablewordthatislong here", 10, []string{"an", "unbreakablewordthatislong", "here"}},
		{"call f(a," + nbsp + "b) now", 11, []string{"call", "f(a, b) now"}},
		{"héllo wörld", 11, []string{"héllo wörld"}},
	} {
		if got := wrap(tc.text, tc.width); !cmp.Equal(got, tc.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.text, tc.width, got, tc.want)
		}
	}
}

func TestArticle(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"ExportClient": "an", "ResizeClient": "a", "UploadClient": "an", "": "a"} {
		if got := article(name); got != want {
			t.Errorf("article(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestNamesOf(t *testing.T) {
	t.Parallel()
	want := Names{
		Kind: "EmailKind", ID: "EmailID", Client: "EmailClient", NewClient: "NewEmailClient", Handle: "EmailHandle",
		Handler: "EmailHandler", HandlerFunc: "EmailHandlerFunc", Method: "HandleEmail", Register: "RegisterEmailHandler",
		RegisterSchedule: "RegisterEmailSchedule",
	}
	if diff := cmp.Diff(want, NamesOf("Email")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
