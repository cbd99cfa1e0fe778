package runtime

import "context"

// KindClient submits, aborts and observes the jobs of one kind with input In
// and output Out. Generated code names it per kind (ResizeClient for the
// Resize job) and makes it with NewKindClient; the zero value is not usable.
// It is a small value, safe for concurrent use.
type KindClient[In, Out any] struct {
	kind   *Kind[In, Out]
	client *Client
}

// NewKindClient returns the typed client of kind k that works through c.
func NewKindClient[In, Out any](k *Kind[In, Out], c *Client) KindClient[In, Out] {
	return KindClient[In, Out]{kind: k, client: c}
}

// Submit stores a job with the kind's defaults, overridden by opts (which
// may be nil). A job with the same unique key as an active one is not stored
// again: the handle then refers to the active job and has Duplicate set.
//
// An error matching ErrUnavailable says storage could not be reached or
// lost its connection during the call; an error of ctx says the call was
// cut off. Both are ambiguous: the job may or may not have been stored, for
// the insert may have committed just before the answer was lost. Invalid
// input (ErrPayloadTooLarge, ErrInvalidName, ErrInvalidOption) is not:
// nothing was written. After an ambiguous error, a job with a unique key
// may simply be submitted again: if the first submit stored it and it is
// still active, the retry returns it with Duplicate set instead of storing
// it twice. Without a key a retry may store a second job.
func (c KindClient[In, Out]) Submit(ctx context.Context, args In, opts *SubmitOpts) (KindHandle[In, Out], error) {
	h, err := c.kind.Submit(ctx, c.client, args, opts)
	if err != nil {
		return KindHandle[In, Out]{}, err
	}
	return newKindHandle[In](h), nil
}

// SubmitMany stores one job per element of args, all with the kind's
// defaults overridden by the same opts (which may be nil), in one storage
// call (storage.Storage.JobInsertMany: one transaction, on PostgreSQL one
// statement unless a unique key's holder finishes meanwhile), and returns
// their handles in the order of args.
// Every element is encoded and checked before anything is written: when
// one cannot be submitted, SubmitMany returns a *BatchError naming its
// index and stores none. Unique keys are honoured per job as Submit does:
// a job whose key an active job holds, or an earlier element of the same
// batch, is not stored, and its handle refers to the holder with Duplicate
// set. Submit middleware sees every job, as it sees a Submit's, and may
// add to its metadata; one that refuses a job fails the batch (a
// *BatchError naming the job) and stores none. The attached server, if
// any, is woken once after the commit. A nil or empty args stores nothing
// and returns no handles. Its errors mean what Submit's do, for the whole
// batch.
func (c KindClient[In, Out]) SubmitMany(ctx context.Context, args []In, opts *SubmitOpts) ([]KindHandle[In, Out], error) {
	hs, err := c.kind.SubmitMany(ctx, c.client, args, opts)
	if err != nil {
		return nil, err
	}
	out := make([]KindHandle[In, Out], len(hs))
	for i, h := range hs {
		out[i] = newKindHandle[In](h)
	}
	return out, nil
}

// Abort aborts job id: a pending job at once, a running one by cancelling
// its context. It returns an error matching ErrFinished when the job had
// already finished.
func (c KindClient[In, Out]) Abort(ctx context.Context, id ID[In]) error {
	return c.client.Abort(ctx, int64(id))
}

// WaitFor waits until job id finishes and returns its output, or an error
// matching ErrFailed, ErrAborted, ErrNotFound or ErrDeleted, or
// ErrWrongKind (at once) when the stored job is of another kind (an id
// converted from a plain integer can name any job).
func (c KindClient[In, Out]) WaitFor(ctx context.Context, id ID[In]) (Out, error) {
	return c.kind.WaitFor(ctx, c.client, int64(id))
}

// Get returns job id with its arguments and, once it completed, its output.
// It returns an error matching ErrWrongKind when the job is of another kind.
func (c KindClient[In, Out]) Get(ctx context.Context, id ID[In]) (*Info[In, Out], error) {
	return c.kind.Get(ctx, c.client, int64(id))
}

// Progress subscribes to job id's progress until cancel is called or the
// job finishes, when the channel is closed.
func (c KindClient[In, Out]) Progress(id ID[In]) (updates <-chan Progress, cancel func()) {
	return c.client.SubscribeProgress(int64(id))
}

// ID is the id of a job of the kind with input In. Each kind's id is a type
// of its own, so passing one kind's id to another kind's client is a
// compile error. Generated code names it per kind (ResizeID for the Resize
// job). An id read as a plain integer, from an HTTP request say, becomes
// one by conversion, ResizeID(n), and goes back the same way, int64(id).
// The untyped operations (Client.Abort, Client.Get, listings) take and
// return plain int64 ids.
type ID[In any] int64

// KindHandle refers to one submitted job of the kind with input In and
// output Out. KindClient.Submit returns it; the zero value is not usable.
type KindHandle[In, Out any] struct {
	// ID is the job's id.
	ID ID[In]
	// Duplicate reports that the submit found an active job with the same
	// unique key and returned it instead of storing a new one.
	Duplicate bool

	h *Handle[Out]
}

// newKindHandle returns the typed handle of h.
func newKindHandle[In, Out any](h *Handle[Out]) KindHandle[In, Out] {
	return KindHandle[In, Out]{ID: ID[In](h.ID), Duplicate: h.Duplicate, h: h}
}

// Wait waits for the job to finish and returns its output, or an error
// matching ErrFailed, ErrAborted, ErrNotFound or ErrDeleted.
func (h KindHandle[In, Out]) Wait(ctx context.Context) (Out, error) {
	return h.h.Wait(ctx)
}

// Abort aborts the job; see KindClient.Abort.
func (h KindHandle[In, Out]) Abort(ctx context.Context) error {
	return h.h.Abort(ctx)
}

// Progress subscribes to the job's progress until cancel is called or the
// job finishes, when the channel is closed.
func (h KindHandle[In, Out]) Progress() (updates <-chan Progress, cancel func()) {
	return h.h.Progress()
}

// NoOutputClient is KindClient for a kind without output: its waits return
// only an error. Generated code names it per kind and makes it with
// NewNoOutputClient; the zero value is not usable.
type NoOutputClient[In any] struct {
	c KindClient[In, NoOutput]
}

// NewNoOutputClient returns the typed client of kind k that works through c.
func NewNoOutputClient[In any](k *Kind[In, NoOutput], c *Client) NoOutputClient[In] {
	return NoOutputClient[In]{c: NewKindClient(k, c)}
}

// Submit stores a job; see KindClient.Submit.
func (c NoOutputClient[In]) Submit(ctx context.Context, args In, opts *SubmitOpts) (NoOutputHandle[In], error) {
	h, err := c.c.Submit(ctx, args, opts)
	return NoOutputHandle[In]{ID: h.ID, Duplicate: h.Duplicate, h: h}, err
}

// SubmitMany stores one job per element of args in one transaction and
// returns their handles in order; see KindClient.SubmitMany.
func (c NoOutputClient[In]) SubmitMany(ctx context.Context, args []In, opts *SubmitOpts) ([]NoOutputHandle[In], error) {
	hs, err := c.c.SubmitMany(ctx, args, opts)
	if err != nil {
		return nil, err
	}
	out := make([]NoOutputHandle[In], len(hs))
	for i, h := range hs {
		out[i] = NoOutputHandle[In]{ID: h.ID, Duplicate: h.Duplicate, h: h}
	}
	return out, nil
}

// Abort aborts job id; see KindClient.Abort.
func (c NoOutputClient[In]) Abort(ctx context.Context, id ID[In]) error {
	return c.c.Abort(ctx, id)
}

// WaitFor waits until job id finishes and returns nil if it completed, or an
// error matching ErrFailed, ErrAborted, ErrNotFound or ErrDeleted, or
// ErrWrongKind (at once) when the job is of another kind.
func (c NoOutputClient[In]) WaitFor(ctx context.Context, id ID[In]) error {
	_, err := c.c.WaitFor(ctx, id)
	return err
}

// Get returns job id with its arguments; see KindClient.Get.
func (c NoOutputClient[In]) Get(ctx context.Context, id ID[In]) (*Info[In, NoOutput], error) {
	return c.c.Get(ctx, id)
}

// Progress subscribes to job id's progress; see KindClient.Progress.
func (c NoOutputClient[In]) Progress(id ID[In]) (updates <-chan Progress, cancel func()) {
	return c.c.Progress(id)
}

// NoOutputHandle refers to one submitted job of a kind with input In and no
// output. NoOutputClient.Submit returns it; the zero value is not usable.
type NoOutputHandle[In any] struct {
	// ID is the job's id.
	ID ID[In]
	// Duplicate reports that the submit found an active job with the same
	// unique key and returned it instead of storing a new one.
	Duplicate bool

	h KindHandle[In, NoOutput]
}

// Wait waits for the job to finish and returns nil if it completed, or an
// error matching ErrFailed, ErrAborted, ErrNotFound or ErrDeleted.
func (h NoOutputHandle[In]) Wait(ctx context.Context) error {
	_, err := h.h.Wait(ctx)
	return err
}

// Abort aborts the job; see KindClient.Abort.
func (h NoOutputHandle[In]) Abort(ctx context.Context) error {
	return h.h.Abort(ctx)
}

// Progress subscribes to the job's progress until cancel is called or the
// job finishes, when the channel is closed.
func (h NoOutputHandle[In]) Progress() (updates <-chan Progress, cancel func()) {
	return h.h.Progress()
}

// NoOutputFunc adapts a handler that returns only an error to the
// HandlerFunc of a kind without output. It returns nil when f is nil, which
// Kind.Register rejects.
func NoOutputFunc[In any](f func(ctx context.Context, job *Job[In]) error) HandlerFunc[In, NoOutput] {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, job *Job[In]) (NoOutput, error) {
		return NoOutput{}, f(ctx, job)
	}
}
