package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

// Example runs the example service on a SQLite file: it registers the
// handlers with the generated Register and resizes an image through the
// generated typed client. It is the code of the README's "Using it".
func Example() {
	dir, err := os.MkdirTemp("", "jobgen-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := sqlite.Open(filepath.Join(dir, "jobs.db"), nil) // or memory.New(), or postgres.Connect(ctx, dsn, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := example.Register(srv, &example.Service{}); err != nil { // a compile error if a handler is missing
		log.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer srv.Stop(ctx)

	jobs := example.NewClients(srv.Client())
	h, err := jobs.Resize.Submit(ctx, example.Resize{Name: "gradient", Image: example.Gradient(640, 480), Width: 320}, nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := h.Wait(ctx) // res is an example.ResizeResult
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%dx%d\n", res.Width, res.Height)
	// Output: 320x240
}
