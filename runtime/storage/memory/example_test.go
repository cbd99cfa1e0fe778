package memory_test

import (
	"context"
	"fmt"
	"log"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// ExampleNew runs the example service on an in-memory store, for tests and
// for programs whose jobs need not outlive the process: it sends one
// message through the Service's Sender.
func ExampleNew() {
	ctx := context.Background()
	store := memory.New()
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
	h, err := jobs.SendMessage.Submit(ctx, example.SendMessage{To: "ada@example.com", Body: "hello"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.Wait(ctx)) // a job without output: Wait returns only an error
	// Output:
	// to ada@example.com: hello
	// <nil>
}
