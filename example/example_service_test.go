package example_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// ExampleService wires every handler of the Service, with its Sender, into
// a server with the generated Register and scales an image through the
// generated typed client.
func ExampleService() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		panic(err)
	}
	sender := example.SenderFunc(func(ctx context.Context, to, body string) error {
		fmt.Printf("to %s: %s\n", to, body)
		return nil
	})
	if err := example.Register(srv, &example.Service{Sender: sender}); err != nil {
		panic(err)
	}
	if err := srv.Start(ctx); err != nil {
		panic(err)
	}
	defer srv.Stop(ctx)

	jobs := example.NewClients(srv.Client())
	logo := example.Gradient(128, 32) // a PNG
	h, err := jobs.Resize.Submit(ctx, example.Resize{Name: "logo", Image: logo, Width: 64}, nil)
	if err != nil {
		panic(err)
	}
	res, err := h.Wait(ctx) // res is an example.ResizeResult
	if err != nil {
		panic(err)
	}
	fmt.Printf("%dx%d\n", res.Width, res.Height)
	// Output: 64x16
}
