package runtime

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jobgen/jobgen/runtime/clock"
	"github.com/jobgen/jobgen/runtime/limit"
	"github.com/jobgen/jobgen/runtime/storage"
)

// Defaults used where a Config, KindOpts or SubmitOpts field is zero.
const (
	DefaultQueue           = "default"
	DefaultMaxAttempts     = 25
	DefaultMaxWorkers      = 100
	DefaultPollInterval    = time.Second
	DefaultLeaseDuration   = 30 * time.Second
	DefaultStopTimeout     = 30 * time.Second
	DefaultMaxPayloadBytes = 1 << 20
	// stopGrace is how long Stop waits for handlers after cancelling them.
	stopGrace = time.Second
)

// Config configures a Server. A zero field means the default its doc names.
type Config struct {
	// Queues lists the queues the server works and how. Defaults to the
	// default queue of every registered kind, less SkipQueues, with
	// DefaultMaxWorkers workers. Start fails with a *QueueNotWorkedError
	// when the default queue of a registered kind is neither here nor in
	// SkipQueues: its jobs would wait with nobody to run them.
	Queues map[string]QueueConfig
	// SkipQueues lists default queues of registered kinds that the server
	// deliberately does not work, because other servers do: a process that
	// registers every kind (as the generated Register does) but works only
	// some queues names the others here. A queue may not be in both.
	SkipQueues []string
	// PollInterval is how often an idle fetch loop looks for jobs that no
	// wake-up announced (other processes' submits on backends without
	// notifications) and, on those backends, how often the abort requests
	// of running jobs are read, so an abort from another process lands
	// within about this interval. Defaults to 1s.
	PollInterval time.Duration
	// LeaseDuration is how long a claim holds a job before another server
	// may rescue it. Running jobs' leases are renewed every third of it.
	// It also bounds each storage call the server makes on its own (claims,
	// heartbeats, outcome writes, retention sweeps). Defaults to 30s.
	LeaseDuration time.Duration
	// StopTimeout bounds how long Stop waits for running jobs before it
	// cancels them. Defaults to 30s; a negative value skips the wait.
	StopTimeout time.Duration
	// Retention says how long finished jobs are kept. Defaults to 24h for
	// completed jobs and 7 days for failed and aborted ones.
	Retention Retention
	// MaxPayloadBytes caps the encoded input of a submit. Defaults to 1 MiB.
	MaxPayloadBytes int
	// Logger receives the server's logs. Defaults to slog.Default(). Job
	// arguments are never logged.
	Logger *slog.Logger
	// Clock is the server's time: lease renewals, deferred jobs, retry
	// backoff, deadlines, retention, polling and event times follow it.
	// Defaults to the system clock (clock.Real), with which storage keeps
	// its own clock; the time of any other clock (clock.Fake in tests) is
	// passed to every storage call, so storage sees the same time. Handler
	// timeouts, Stop's timeouts and the bounds of storage calls run on
	// the system clock, and so do limiters.
	Clock clock.Clock
	// SubmitMiddleware wraps every submit of the attached client (see
	// SubmitMiddleware); the first is the outermost.
	SubmitMiddleware []SubmitMiddleware
	// RunMiddleware wraps every handler call of the server (see
	// RunMiddleware); the first is the outermost.
	RunMiddleware []RunMiddleware
}

// QueueConfig configures one queue of a server.
type QueueConfig struct {
	// MaxWorkers is how many jobs of the queue run at once. Defaults to 100.
	// Each job runs on a worker goroutine that stays for the server's life
	// once started and keeps a stack of at least 8 KiB.
	MaxWorkers int
	// Limiter, when set, admits job starts of the queue (see package limit).
	Limiter limit.Limiter
}

// Retention defaults, used where a Retention field is zero.
const (
	DefaultRetentionCompleted = 24 * time.Hour
	DefaultRetentionFailed    = 7 * 24 * time.Hour
	DefaultRetentionAborted   = 7 * 24 * time.Hour
	DefaultSweepInterval      = time.Minute
	DefaultSweepBatch         = 1000
)

// KeepForever is the retention TTL that keeps finished jobs of its state
// forever: the sweep leaves them alone, and when every TTL is KeepForever
// no sweep runs. Zero is not forever: a zero TTL means the default.
const KeepForever time.Duration = math.MaxInt64

// Retention says how long finished jobs are kept, with one TTL per
// terminal state. A zero TTL means its default (completed jobs 24h, failed
// and aborted jobs 7 days); KeepForever keeps them forever; a negative TTL
// deletes a job as soon as it finishes; any other positive TTL deletes it
// once it finished that long ago.
//
// Every path to a terminal state obeys it: the finisher deletes the jobs it
// finishes at once when their TTL is negative, and the sweep deletes every
// finished job past its TTL however it got there (aborted while pending,
// failed by a claim because its lease expired with its attempts used up),
// those of a negative TTL within one SweepInterval. The sweep runs when the
// server starts and then every SweepInterval, unless every TTL is
// KeepForever. A round deletes in batches of at most SweepBatch jobs, one
// short statement each, pausing after each about as long as it took,
// until no job past its TTL is left; so it keeps up with jobs
// finishing as fast as the storage can delete them, while keeping it busy
// at most half the time. Stop ends a round early.
type Retention struct {
	// Completed is how long completed jobs are kept. Defaults to 24h.
	Completed time.Duration
	// Failed is how long failed jobs are kept. Defaults to 7 days.
	Failed time.Duration
	// Aborted is how long aborted jobs are kept. Defaults to 7 days.
	Aborted time.Duration
	// SweepInterval is how often the sweep runs. Defaults to a minute.
	SweepInterval time.Duration
	// SweepBatch is how many jobs one delete statement of the sweep removes
	// at most. Defaults to 1,000.
	SweepBatch int
}

// withDefaults returns r with its zero fields set to their defaults.
func (r Retention) withDefaults() Retention {
	r.Completed = cmp.Or(r.Completed, DefaultRetentionCompleted)
	r.Failed = cmp.Or(r.Failed, DefaultRetentionFailed)
	r.Aborted = cmp.Or(r.Aborted, DefaultRetentionAborted)
	r.SweepInterval = cmp.Or(r.SweepInterval, DefaultSweepInterval)
	r.SweepBatch = cmp.Or(r.SweepBatch, DefaultSweepBatch)
	return r
}

// sweeps reports whether the sweep has anything to do: some TTL is not
// KeepForever.
func (r Retention) sweeps() bool {
	return r.Completed != KeepForever || r.Failed != KeepForever || r.Aborted != KeepForever
}

// ClientConfig configures a detached client. A zero field means the default
// its doc names.
type ClientConfig struct {
	// MaxPayloadBytes caps the encoded input of a submit. Defaults to 1 MiB.
	MaxPayloadBytes int
	// PollInterval is how often WaitFor reads a job again when no
	// notification says it changed. Defaults to 100ms on backends without
	// notifications and 1s on backends with them.
	PollInterval time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Clock is the client's time (see Config.Clock): submits, aborts and
	// WaitFor's polling follow it. Defaults to the system clock.
	Clock clock.Clock
	// SubmitMiddleware wraps every submit of the client (see
	// SubmitMiddleware); the first is the outermost.
	SubmitMiddleware []SubmitMiddleware
}

// withDefaults returns c with its zero fields set to their defaults. An
// empty Queues stays empty: Start fills it from the registered kinds (see
// Server.buildQueues).
func (c Config) withDefaults() Config {
	// The settings the attached client takes from c get the client's
	// defaults, with the server's poll interval.
	client := c.client().withDefaults(DefaultPollInterval)
	c.MaxPayloadBytes, c.PollInterval, c.Logger, c.Clock = client.MaxPayloadBytes, client.PollInterval, client.Logger, client.Clock
	c.LeaseDuration = cmp.Or(c.LeaseDuration, DefaultLeaseDuration)
	c.StopTimeout = cmp.Or(c.StopTimeout, DefaultStopTimeout)
	c.Retention = c.Retention.withDefaults()
	if c.Queues != nil {
		queues := make(map[string]QueueConfig, len(c.Queues))
		for name, q := range c.Queues {
			queues[name] = q.withDefaults()
		}
		c.Queues = queues
	}
	return c
}

// validate reports the first invalid option of c, whose defaults are filled.
func (c Config) validate() error {
	if err := c.client().validate(); err != nil {
		return err
	}
	switch {
	case c.LeaseDuration < 0:
		return fmt.Errorf("%w: negative lease duration %v", ErrInvalidOption, c.LeaseDuration)
	case c.LeaseDuration < 10*time.Millisecond:
		return fmt.Errorf("%w: lease duration %v is below 10ms", ErrInvalidOption, c.LeaseDuration)
	case c.Retention.SweepInterval < 0:
		return fmt.Errorf("%w: negative retention sweep interval %v", ErrInvalidOption, c.Retention.SweepInterval)
	case c.Retention.SweepBatch < 0:
		return fmt.Errorf("%w: negative retention sweep batch %d", ErrInvalidOption, c.Retention.SweepBatch)
	case slices.ContainsFunc(c.RunMiddleware, func(m RunMiddleware) bool { return m == nil }):
		return fmt.Errorf("%w: nil run middleware", ErrInvalidOption)
	}
	for name, q := range c.Queues {
		if err := validateName("queue", name); err != nil {
			return err
		}
		if q.MaxWorkers < 0 {
			return fmt.Errorf("%w: queue %q: negative max workers %d", ErrInvalidOption, name, q.MaxWorkers)
		}
	}
	for _, name := range c.SkipQueues {
		if err := validateName("queue", name); err != nil {
			return err
		}
		if _, ok := c.Queues[name]; ok {
			return fmt.Errorf("%w: queue %q is in both Queues and SkipQueues", ErrInvalidOption, name)
		}
	}
	return nil
}

// queueConfigs returns the queues a server with c works, given its
// registered kinds, or a *QueueNotWorkedError for each kind whose default
// queue it neither works nor skips.
func (c Config) queueConfigs(kinds map[string]*registeredKind) (map[string]QueueConfig, error) {
	cfgs := c.Queues
	if len(cfgs) == 0 {
		cfgs = make(map[string]QueueConfig)
		for _, k := range kinds {
			if !slices.Contains(c.SkipQueues, k.opts.Queue) {
				cfgs[k.opts.Queue] = QueueConfig{}.withDefaults()
			}
		}
		if len(cfgs) == 0 {
			return nil, fmt.Errorf("%w: no queue to work: SkipQueues holds the queue of every registered kind", ErrInvalidOption)
		}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(kinds)) {
		q := kinds[name].opts.Queue
		if _, ok := cfgs[q]; !ok && !slices.Contains(c.SkipQueues, q) {
			errs = append(errs, &QueueNotWorkedError{Kind: name, Queue: q})
		}
	}
	return cfgs, errors.Join(errs...)
}

// client returns the settings of the server's attached client.
func (c Config) client() ClientConfig {
	return ClientConfig{MaxPayloadBytes: c.MaxPayloadBytes, PollInterval: c.PollInterval, Logger: c.Logger, Clock: c.Clock, SubmitMiddleware: c.SubmitMiddleware}
}

// withDefaults returns q with its zero fields set to their defaults.
func (q QueueConfig) withDefaults() QueueConfig {
	q.MaxWorkers = cmp.Or(q.MaxWorkers, DefaultMaxWorkers)
	return q
}

// withDefaults returns c with its zero fields set to their defaults; poll
// is the default poll interval, which depends on the client (see
// ClientConfig.PollInterval and Config.PollInterval).
func (c ClientConfig) withDefaults(poll time.Duration) ClientConfig {
	c.MaxPayloadBytes = cmp.Or(c.MaxPayloadBytes, DefaultMaxPayloadBytes)
	c.PollInterval = cmp.Or(c.PollInterval, poll)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	return c
}

// detachedPollInterval is the default poll interval of a detached client
// over store.
func detachedPollInterval(store storage.Storage) time.Duration {
	if _, ok := store.(storage.Notifier); ok {
		return time.Second
	}
	return 100 * time.Millisecond
}

// validate reports the first invalid option of c.
func (c ClientConfig) validate() error {
	switch {
	case c.PollInterval < 0:
		return fmt.Errorf("%w: negative poll interval %v", ErrInvalidOption, c.PollInterval)
	case c.MaxPayloadBytes < 0:
		return fmt.Errorf("%w: negative max payload %d", ErrInvalidOption, c.MaxPayloadBytes)
	case slices.ContainsFunc(c.SubmitMiddleware, func(m SubmitMiddleware) bool { return m == nil }):
		return fmt.Errorf("%w: nil submit middleware", ErrInvalidOption)
	}
	return nil
}

// withDefaults returns o with its zero fields set to their defaults.
func (o KindOpts) withDefaults() KindOpts {
	o.Queue = cmp.Or(o.Queue, DefaultQueue)
	o.MaxAttempts = cmp.Or(o.MaxAttempts, DefaultMaxAttempts)
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	return o
}

// validate reports the first invalid option of o, whose defaults are filled.
func (o KindOpts) validate() error {
	if err := validateName("kind", o.Name); err != nil {
		return err
	}
	if err := validateName("queue", o.Queue); err != nil {
		return err
	}
	switch {
	case o.MaxAttempts < 1:
		return fmt.Errorf("%w: kind %s: max attempts %d, want at least 1", ErrInvalidOption, o.Name, o.MaxAttempts)
	case o.Timeout < 0:
		return fmt.Errorf("%w: kind %s: negative timeout %v", ErrInvalidOption, o.Name, o.Timeout)
	case o.UniqueFor < 0:
		return fmt.Errorf("%w: kind %s: negative unique window %v", ErrInvalidOption, o.Name, o.UniqueFor)
	}
	return nil
}

// SubmitOpts override a kind's defaults for one job. A nil *SubmitOpts, a
// nil pointer field or an empty string keeps the kind's default; a pointer
// overrides it, zero included: Priority: new(0) runs the job at priority 0
// whatever the kind's priority, Timeout: new(time.Duration(0)) runs it
// without a timeout.
type SubmitOpts struct {
	// Queue overrides the kind's queue when not empty.
	Queue string
	// Priority overrides the kind's priority when set; a smaller number
	// runs first.
	Priority *int
	// MaxAttempts overrides the kind's attempts when set; at least 1.
	MaxAttempts *int
	// RunAfter defers the job until then.
	RunAfter time.Time
	// Delay defers the job until Delay after the submit, on the client's
	// clock (ClientConfig.Clock, Config.Clock): the relative form of
	// RunAfter. Setting both is an error; a negative Delay is an error.
	Delay time.Duration
	// Deadline fails the job without running it if it has not started by then.
	Deadline time.Time
	// Timeout overrides the kind's per-run timeout when set; zero means
	// no timeout.
	Timeout *time.Duration
	// UniqueKey overrides the key the kind derives from the input when not
	// empty. A key makes a submit safe to retry after an ambiguous error
	// (see KindClient.Submit): the retry finds the job the first one
	// stored, as long as that job is active.
	UniqueKey string
	// Metadata is stored with the job: small strings such as trace context
	// or tags, which its handler (Job.Metadata), run middleware and the
	// stored record (storage.Job.Metadata) see. At most 64 keys, each 1 to
	// 64 bytes of ASCII letters, digits and "-_.:/"; values valid UTF-8
	// without NUL bytes; at most 4 KiB encoded (see
	// storage.MetadataProblem). A submit outside these bounds fails with a
	// *MetadataError. The map is copied; the caller may reuse it.
	Metadata map[string]string
	// UniqueFor overrides the kind's unique window when set; zero holds
	// the key only while a job holding it is active.
	UniqueFor *time.Duration
}

// validate reports the first invalid override of o. The unique key is
// checked once it is chosen, and the deadline once the run-after time is
// known (see Client.baseParams).
func (o *SubmitOpts) validate() error {
	if o.Queue != "" {
		if err := validateName("queue", o.Queue); err != nil {
			return err
		}
	}
	switch {
	case o.MaxAttempts != nil && (*o.MaxAttempts < 1 || *o.MaxAttempts > maxAttemptsLimit):
		return fmt.Errorf("%w: max attempts %d, want 1 to %d", ErrInvalidOption, *o.MaxAttempts, maxAttemptsLimit)
	case o.Timeout != nil && (*o.Timeout < 0 || *o.Timeout > maxTimeout):
		return fmt.Errorf("%w: timeout %v, want 0 (none) to %v", ErrInvalidOption, *o.Timeout, maxTimeout)
	case o.UniqueFor != nil && *o.UniqueFor < 0:
		return fmt.Errorf("%w: unique window %v, want 0 (none) or positive", ErrInvalidOption, *o.UniqueFor)
	case o.Priority != nil && (*o.Priority < -maxPriority || *o.Priority > maxPriority):
		return fmt.Errorf("%w: priority %d, want %d to %d", ErrInvalidOption, *o.Priority, -maxPriority, maxPriority)
	case o.Delay < 0:
		return fmt.Errorf("%w: negative delay %v", ErrInvalidOption, o.Delay)
	case o.Delay != 0 && !o.RunAfter.IsZero():
		return fmt.Errorf("%w: both RunAfter and Delay set; give one", ErrInvalidOption)
	}
	return nil
}

// Bounds that catch absurd submit options.
const (
	maxAttemptsLimit = 1_000_000
	maxTimeout       = 365 * 24 * time.Hour
	maxPriority      = 1_000_000
	maxUniqueKey     = storage.MaxUniqueKeyLen
)

// BackoffFunc returns the delay before retry number attempt (1 after the
// first failed run).
type BackoffFunc func(attempt int) time.Duration

// DefaultBackoff is ExponentialBackoff(time.Second): 1s, 2s, 4s, ... capped
// at one hour, with jitter.
func DefaultBackoff(attempt int) time.Duration {
	return exponential(time.Second, attempt)
}

// ExponentialBackoff returns a backoff that starts at base and doubles with
// every attempt, capped at one hour, with up to 10% random jitter either
// way. It panics when base is not positive.
func ExponentialBackoff(base time.Duration) BackoffFunc {
	if base <= 0 {
		panic(fmt.Sprintf("runtime.ExponentialBackoff: base %v, want a positive duration", base))
	}
	return func(attempt int) time.Duration { return exponential(base, attempt) }
}

func exponential(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(d))
	return d + jitter
}
