// Package example shows jobgen end to end: four annotated jobs, their
// handlers, and the typed API that jobgen generates for them in
// jobs_jobgen.go (regenerate it with go generate from the module root).
//
// The jobs scale an image, render a report, send a message through a
// pluggable Sender and crunch numbers for a while, reporting progress and
// stopping when aborted. Service implements every handler, so wiring a
// server takes one call to the generated Register (from ExampleService):
//
//	srv, err := runtime.NewServer(store, runtime.Config{})
//	...
//	sender := example.SenderFunc(func(ctx context.Context, to, body string) error {
//		fmt.Printf("to %s: %s\n", to, body)
//		return nil
//	})
//	if err := example.Register(srv, &example.Service{Sender: sender}); err != nil {
//	...
//	if err := srv.Start(ctx); err != nil {
//	...
//	jobs := example.NewClients(srv.Client())
//	logo := example.Gradient(128, 32) // a PNG
//	h, err := jobs.Resize.Submit(ctx, example.Resize{Name: "logo", Image: logo, Width: 64}, nil)
//	...
//	res, err := h.Wait(ctx) // res is an example.ResizeResult
package example
