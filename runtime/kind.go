package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"time"

	"github.com/jobgen/jobgen/runtime/internal/fastjson"
	"github.com/jobgen/jobgen/runtime/storage"
)

// NoOutput is the output type of jobs that return only an error.
type NoOutput struct{}

// KindOpts are a job kind's defaults. Generated code fills them from the
// //jobgen:job marker; SubmitOpts override them per job.
type KindOpts struct {
	// Name is the stable stored name of the kind. Required.
	Name string
	// Queue is the default queue. Defaults to "default".
	Queue string
	// Priority is the default priority; a smaller number runs first. Defaults to 0.
	Priority int
	// MaxAttempts is how many times a job may be claimed. Defaults to 25.
	MaxAttempts int
	// Timeout bounds each run as a context deadline. Zero means no timeout.
	Timeout time.Duration
	// Backoff chooses the delay before a retry. Defaults to DefaultBackoff.
	Backoff BackoffFunc
	// UniqueFor, when positive, makes a job's unique key hold also for
	// this long after a job holding it was created, whatever that job's
	// state (one job per key per window); zero holds keys only while a
	// job holding them is pending or running.
	UniqueFor time.Duration
}

// Kind is one job kind with input In and output Out. Generated code declares
// one per annotated struct; its methods are what the generated clients and
// registration call. A Kind is immutable and safe for concurrent use.
type Kind[In, Out any] struct {
	opts      KindOpts
	uniqueKey func(In) string
	codec     codec
}

// codec notes the shapes of a kind's types that let it skip encoding/json:
// jobs without arguments or without output are common, arguments are
// mostly flat structs, and encoding/json's cost dominates a job that does
// little.
type codec struct {
	inStruct bool              // In is a struct without its own decoding: "{}" decodes to its zero value
	inEmpty  bool              // In is a struct without fields or its own encoding: it encodes to "{}"
	inFast   *fastjson.Decoder // decodes In when it is a flat struct; nil otherwise
	noOutput bool              // Out is NoOutput: nothing is stored
}

var emptyObject = []byte("{}")

func newCodec[In, Out any]() codec {
	in := reflect.TypeFor[In]()
	return codec{
		inStruct: in.Kind() == reflect.Struct && !fastjson.CustomDecoding(in),
		inEmpty:  in.Kind() == reflect.Struct && in.NumField() == 0 && !fastjson.CustomEncoding(in),
		inFast:   fastjson.For(in),
		noOutput: reflect.TypeFor[Out]() == reflect.TypeFor[NoOutput](),
	}
}

func encodeInput[In any](c codec, in In) ([]byte, error) {
	if c.inEmpty {
		return emptyObject, nil
	}
	return json.Marshal(in)
}

func decodeInput[In any](c codec, data []byte, in *In) error {
	if c.inStruct && bytes.Equal(data, emptyObject) {
		return nil
	}
	if c.inFast != nil {
		if c.inFast.Decode(data, reflect.ValueOf(in).Elem()) {
			return nil
		}
		var zero In
		*in = zero // encoding/json decodes from scratch what the fast path left
	}
	return json.Unmarshal(data, in)
}

func encodeOutput[Out any](c codec, out Out) ([]byte, error) {
	if c.noOutput {
		return nil, nil
	}
	return json.Marshal(out)
}

// NewKind returns the kind described by opts. It panics when opts are
// invalid: kinds are declared once at package level, so a bad one is a
// programmer error.
func NewKind[In, Out any](opts KindOpts) *Kind[In, Out] {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		panic(fmt.Sprintf("runtime.NewKind: %v", err))
	}
	return &Kind[In, Out]{opts: opts, codec: newCodec[In, Out]()}
}

// WithUniqueKey returns a copy of k whose jobs are deduplicated by key(in)
// among active jobs of the kind. An empty key means no deduplication.
func (k *Kind[In, Out]) WithUniqueKey(key func(In) string) *Kind[In, Out] {
	c := *k
	c.uniqueKey = key
	return &c
}

// Name returns the stored kind name.
func (k *Kind[In, Out]) Name() string { return k.opts.Name }

// Opts returns the kind's defaults.
func (k *Kind[In, Out]) Opts() KindOpts { return k.opts }

// Submit encodes in and stores a job of this kind through c. Its errors
// are those of KindClient.Submit.
func (k *Kind[In, Out]) Submit(ctx context.Context, c *Client, in In, opts *SubmitOpts) (*Handle[Out], error) {
	input, err := encodeInput(k.codec, in)
	if err != nil {
		return nil, fmt.Errorf("submit %s: encode input: %w", k.opts.Name, err)
	}
	var key string
	if k.uniqueKey != nil {
		key = k.uniqueKey(in)
	}
	res, err := c.submit(ctx, &k.opts, input, key, opts)
	if err != nil {
		return nil, err
	}
	return &Handle[Out]{ID: res.Job.ID, Duplicate: res.Duplicate, client: c, kind: k.opts.Name, known: txOf(ctx) == nil}, nil
}

// WaitFor waits until job id finishes and returns its decoded output, or an
// error: one matching ErrFailed or ErrAborted that carries the job's
// details as a *JobError, ErrNotFound, ErrDeleted once the job was read and
// then deleted by retention, or ErrWrongKind (at once) when the job is of
// another kind.
func (k *Kind[In, Out]) WaitFor(ctx context.Context, c *Client, id int64) (Out, error) {
	return waitFor[Out](ctx, c, id, k.opts.Name, false)
}

// Get returns job id with its input and (when completed) output decoded.
func (k *Kind[In, Out]) Get(ctx context.Context, c *Client, id int64) (*Info[In, Out], error) {
	job, err := c.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if job.Kind != k.opts.Name {
		return nil, wrongKind("get", id, job.Kind, k.opts.Name)
	}
	info := &Info[In, Out]{Job: job}
	if err := decodeInput(k.codec, job.Input, &info.Args); err != nil {
		return nil, decodeError(job.Kind, job.ID, "input", err)
	}
	if job.State == storage.StateCompleted && len(job.Output) > 0 {
		if err := json.Unmarshal(job.Output, &info.Output); err != nil {
			return nil, decodeError(job.Kind, job.ID, "output", err)
		}
	}
	return info, nil
}

// Register makes srv run jobs of this kind with h. It fails when the kind is
// already registered or the server has started.
func (k *Kind[In, Out]) Register(srv *Server, h HandlerFunc[In, Out]) error {
	if h == nil {
		return fmt.Errorf("register %s: nil handler", k.opts.Name)
	}
	return srv.register(&k.opts, k.runFunc(h))
}

// runFunc returns what a worker calls to run a claimed job of this kind
// with h: decode the input, call h, encode its output.
func (k *Kind[In, Out]) runFunc(h HandlerFunc[In, Out]) runFunc {
	return func(ctx context.Context, rec *storage.ClaimedJob, report progressReporter) ([]byte, error) {
		job := &Job[In]{
			ID:          rec.ID,
			Kind:        rec.Kind,
			Queue:       rec.Queue,
			Attempt:     rec.Attempt,
			MaxAttempts: rec.MaxAttempts,
			CreatedAt:   rec.CreatedAt,
			Metadata:    maps.Clone(rec.Metadata),
			report:      report,
		}
		if err := decodeInput(k.codec, rec.Input, &job.Args); err != nil {
			return nil, &inputDecodeError{decodeError(rec.Kind, rec.ID, "input", err)}
		}
		out, err := h(ctx, job)
		if err != nil {
			return nil, err
		}
		b, err := encodeOutput(k.codec, out)
		if err != nil {
			return nil, Permanent(fmt.Errorf("encode output of %s job %d: %w", rec.Kind, rec.ID, err))
		}
		return b, nil
	}
}

// HandlerFunc runs one job of kind In and returns its output. Return
// Permanent(err) to fail without retrying, RetryAfter(d, err) to retry
// after d (the run uses an attempt), Snooze(d) to run again after d
// without using an attempt, HoldQueue(until, err) to hold the queue and
// run the job again at until without using an attempt; any other error is
// retried with the kind's backoff until the attempts run out.
type HandlerFunc[In, Out any] func(ctx context.Context, job *Job[In]) (Out, error)

// Job is what a handler receives: the decoded arguments and the job's
// identity.
type Job[In any] struct {
	ID          int64
	Kind        string
	Queue       string
	Attempt     int
	MaxAttempts int
	CreatedAt   time.Time
	// Metadata is the metadata stored with the job (SubmitOpts.Metadata,
	// with what submit middleware added); nil when it has none. It is the
	// handler's own copy.
	Metadata map[string]string
	// Args is the decoded input.
	Args In

	report progressReporter
}

// ReportProgress tells the job's observers how far it has come. percent is
// clamped to [0, 100]. It writes nothing to storage and never blocks.
func (j *Job[In]) ReportProgress(percent float64, message string) {
	if j.report != nil {
		j.report.reportProgress(Progress{Percent: min(max(percent, 0), 100), Message: message})
	}
}

// ReportProgressDetails is ReportProgress with details: a small value,
// typically a struct or a map, that observers receive JSON-encoded as
// Progress.Details, in this process and, on backends with notifications,
// in others. A details value that does not encode, or whose encoding is
// longer than MaxProgressDetails, is left out of the report (logged at
// debug level); the report still goes out, and the job is unaffected.
func (j *Job[In]) ReportProgressDetails(percent float64, message string, details any) {
	if j.report == nil {
		return
	}
	p := Progress{Percent: min(max(percent, 0), 100), Message: message}
	d, err := encodeDetails(details)
	if err != nil {
		j.report.detailsDropped(err)
	}
	p.Details = d
	j.report.reportProgress(p)
}

// Info is a stored job with its input and output decoded.
type Info[In, Out any] struct {
	// Job is the stored record.
	Job *storage.Job
	// Args is the decoded input.
	Args In
	// Output is the decoded output; the zero value unless the job completed.
	Output Out
}

// Handle refers to one submitted job.
type Handle[Out any] struct {
	// ID is the job's id.
	ID int64
	// Duplicate reports that the submit found an active job with the same
	// unique key and returned it instead of storing a new one.
	Duplicate bool

	client *Client
	kind   string
	// known: the job is known to be stored (not submitted in a
	// transaction that may yet roll back; see Client.wait).
	known bool
}

// Wait waits for the job to finish and returns its output (see Kind.WaitFor).
func (h *Handle[Out]) Wait(ctx context.Context) (Out, error) {
	return waitFor[Out](ctx, h.client, h.ID, h.kind, h.known)
}

// Abort aborts the job (see Client.Abort).
func (h *Handle[Out]) Abort(ctx context.Context) error {
	return h.client.Abort(ctx, h.ID)
}

// Progress subscribes to the job's progress until cancel is called or the
// job finishes, when the channel is closed.
func (h *Handle[Out]) Progress() (updates <-chan Progress, cancel func()) {
	return h.client.SubscribeProgress(h.ID)
}

func decodeError(kind string, id int64, what string, err error) error {
	return fmt.Errorf("decode %s of %s job %d: %w", what, kind, id, err)
}

// waitFor waits for job id of kind kind through c and decodes its output;
// known says the job is known to have been stored (see Client.wait).
func waitFor[Out any](ctx context.Context, c *Client, id int64, kind string, known bool) (Out, error) {
	var out Out
	job, err := c.wait(ctx, id, kind, known)
	if err != nil {
		return out, err
	}
	if len(job.Output) > 0 {
		if err := json.Unmarshal(job.Output, &out); err != nil {
			return out, decodeError(job.Kind, job.ID, "output", err)
		}
	}
	return out, nil
}

// UniqueKey builds a unique key from field values: their JSON encodings
// joined, so different values never collide. Generated code calls it with
// the fields a marker's unique= names.
func UniqueKey(values ...any) string {
	b, err := json.Marshal(values)
	if err != nil {
		// Field types are checked at generate time; this is a programmer error.
		panic(fmt.Sprintf("runtime.UniqueKey: %v", err))
	}
	return string(b)
}

// inputDecodeError is a stored input that does not decode into the kind's
// type: retrying cannot help, so the job fails at once.
type inputDecodeError struct{ err error }

func (e *inputDecodeError) Error() string { return e.err.Error() }
func (e *inputDecodeError) Unwrap() error { return e.err }
