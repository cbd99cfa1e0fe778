// Package runtime is the engine under jobgen's generated clients and
// handlers: the Server with its fetch loops, worker goroutines, limiters,
// retries, leases and drain-on-stop; the Client that submits, aborts,
// waits and observes; and the events and progress that connect them.
//
// Generated code declares one Kind per annotated struct and wraps it in
// typed clients and handler interfaces, so most programs never call this
// package's generic API directly. It is usable without the generator too:
//
//	var greet = runtime.NewKind[Greet, Greeting](runtime.KindOpts{Name: "greet"})
//
//	srv, err := runtime.NewServer(store, runtime.Config{})
//	...
//	err = greet.Register(srv, func(ctx context.Context, job *runtime.Job[Greet]) (Greeting, error) {
//		return Greeting{Text: "hello, " + job.Args.Name}, nil
//	})
//	...
//	if err := srv.Start(ctx); err != nil {
//	...
//	defer srv.Stop(ctx)
//
//	h, err := greet.Submit(ctx, srv.Client(), Greet{Name: "gopher"}, nil)
//	...
//	res, err := h.Wait(ctx)
//
// The package's Example runs this code in full.
//
// Storage is pluggable (package storage and its backends memory, sqlite and
// postgres); the runtime keeps nothing that storage cannot rebuild after a
// crash. Delivery is at least once: a job whose worker dies is claimed again
// once its lease expires, so handlers should be idempotent.
//
// Handlers steer outcomes with errors: Permanent(err) fails the job at once,
// RetryAfter(d, err) retries after d, any other error retries with the
// kind's backoff until the attempts run out, and a panic is recovered into
// a *PanicError that keeps the stack. WaitFor returns the output, or an
// error matching ErrFailed, ErrAborted, ErrNotFound or ErrDeleted.
//
// A job carries metadata: a small map of strings set at submit
// (SubmitOpts.Metadata), which its handler (Job.Metadata) and the stored
// record (storage.Job.Metadata) see, for trace context and tags. Submit
// middleware (Config.SubmitMiddleware, ClientConfig.SubmitMiddleware) wraps
// every submit, and may add metadata or refuse the job; run middleware
// (Config.RunMiddleware) wraps every handler call. Tracing packages build
// on both.
package runtime
