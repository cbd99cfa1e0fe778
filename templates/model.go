package templates

import "time"

// RuntimePath is the import path of the runtime that generated code targets.
// Generated files import it under the name "runtime": they are separate files,
// so the standard library package of that name never needs to share them.
const RuntimePath = "github.com/jobgen/jobgen/runtime"

// Package is one Go package's jobs with every name resolved.
type Package struct {
	// Path is the package's import path.
	Path string
	// Name is the package name.
	Name string
	// Jobs are the package's jobs, sorted by Name.
	Jobs []Job
}

// Job is one annotated struct and its marker options.
type Job struct {
	// Name is the struct's name; every generated name derives from it.
	Name string
	// Source is the base name of the file that declares the struct.
	Source string
	// Kind is the stored kind name.
	Kind string
	// Queue is the default queue.
	Queue string
	// Priority is the default priority, rendered only when HasPriority.
	Priority    int
	HasPriority bool
	// Attempts is the default number of attempts; zero leaves the runtime default.
	Attempts int
	// Timeout is the per-run timeout; zero means none.
	Timeout time.Duration
	// Backoff is the base of the exponential retry backoff; zero leaves the
	// runtime default.
	Backoff time.Duration
	// Output is the handler's result type; nil for jobs that return only an error.
	Output *Type
	// Unique are the fields the unique key is built from, in marker order.
	Unique []Field
	// UniqueFor is how long a unique key holds after a job with it was
	// created, whatever its state; zero holds it only while the job is
	// active.
	UniqueFor time.Duration
	// Schedule is the marker's schedule; nil for a job that is not periodic.
	Schedule *Schedule
}

// Schedule is the schedule of a periodic job: an interval or a cron
// expression read in a time zone.
type Schedule struct {
	// Every is the interval; zero for a cron schedule.
	Every time.Duration
	// Cron is the cron expression; empty for an interval.
	Cron string
	// TimeZone is the IANA zone Cron is read in; empty means UTC.
	TimeZone string
}

// Type is a named type.
type Type struct {
	// Path is the import path of the package that declares it; empty for
	// predeclared types such as string.
	Path string
	// PkgName is the name of that package.
	PkgName string
	// Name is the type's name.
	Name string
}

// Field is a field of a job struct.
type Field struct {
	// Name is the field's Go name.
	Name string
}

// Names are the generated identifiers of one job, derived from its struct name.
type Names struct {
	Kind, ID, Client, NewClient, Handle, Handler, HandlerFunc, Method, Register string
	// RegisterSchedule registers a schedule of the job (periodic jobs only).
	RegisterSchedule string
}

// NamesOf returns the generated names of the job whose struct is called name.
func NamesOf(name string) Names {
	return Names{
		Kind:        name + "Kind",
		ID:          name + "ID",
		Client:      name + "Client",
		NewClient:   "New" + name + "Client",
		Handle:      name + "Handle",
		Handler:     name + "Handler",
		HandlerFunc: name + "HandlerFunc",
		Method:      "Handle" + name,
		Register:    "Register" + name + "Handler",

		RegisterSchedule: "Register" + name + "Schedule",
	}
}

// Declared returns the package-level identifiers among n: every name but
// the handler method's.
func (n Names) Declared() []string {
	return []string{n.Kind, n.ID, n.Client, n.NewClient, n.Handle, n.Handler, n.HandlerFunc, n.Register}
}

// Package-level generated identifiers.
const (
	HandlersName   = "Handlers"
	RegisterName   = "Register"
	ClientsName    = "Clients"
	NewClientsName = "NewClients"
)
