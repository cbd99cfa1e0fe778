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

// ExampleStore_Begin submits a job inside the application's own
// transaction on the store's file: the job exists only if the transaction
// commits, and the server is woken at the commit.
func ExampleStore_Begin() {
	dir, err := os.MkdirTemp("", "jobgen-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := sqlite.Open(filepath.Join(dir, "app.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		log.Fatal(err)
	}
	sender := example.SenderFunc(func(ctx context.Context, to, body string) error {
		fmt.Printf("to %s: %s\n", to, body)
		return nil
	})
	if err := example.Register(srv, &example.Service{Sender: sender}); err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer srv.Stop(ctx)
	jobs := example.NewClients(srv.Client())

	tx, err := store.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS users (email TEXT PRIMARY KEY)`); err != nil {
		log.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (email) VALUES (?)`, "ada@example.com"); err != nil {
		log.Fatal(err)
	}
	h, err := jobs.SendMessage.Submit(runtime.InTx(ctx, tx.Jobs()), example.SendMessage{To: "ada@example.com", Body: "welcome"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.Wait(ctx))
	// Output:
	// to ada@example.com: welcome
	// <nil>
}
