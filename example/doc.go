// Package example shows jobgen end to end: four annotated jobs, their
// handlers, and the typed API that jobgen generates for them in
// jobs_jobgen.go (regenerate it with go generate from the module root).
//
// The jobs scale an image, render a report, send a message through a
// pluggable Sender and crunch numbers for a while, reporting progress and
// stopping when aborted. Service implements every handler, so wiring a
// server takes one call to the generated Register:
//
//	srv, err := runtime.NewServer(memory.New(), runtime.Config{})
//	// handle err
//	err = example.Register(srv, &example.Service{Sender: sender})
//	// handle err
//	err = srv.Start(ctx)
//	// handle err
//	jobs := example.NewClients(srv.Client())
//	h, err := jobs.Resize.Submit(ctx, example.Resize{Name: "logo", Image: png, Width: 64}, nil)
//	res, err := h.Wait(ctx) // res is an example.ResizeResult
package example
