package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// ExampleClient_List lists the failed jobs of a kind, retries them, and
// pauses and resumes their queue: what an operator does from code (the
// jobgenctl command and the dashboard do it through the same calls).
func ExampleClient_List() {
	ctx := context.Background()
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	err = greet.Register(srv, func(ctx context.Context, job *runtime.Job[Greet]) (Greeting, error) {
		return Greeting{}, runtime.Permanent(errors.New("no greeting today"))
	})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(ctx); err != nil {
		panic(err)
	}
	defer srv.Stop(ctx)
	h, err := greet.Submit(ctx, srv.Client(), Greet{Name: "gopher"}, nil)
	if err != nil {
		panic(err)
	}
	h.Wait(ctx) // fails

	c := srv.Client() // or runtime.NewClient(store, cfg) in another process
	failed := runtime.JobFilter{States: []storage.State{storage.StateFailed}, Kinds: []string{"greet"}}
	page, err := c.List(ctx, &runtime.ListOpts{Filter: failed}) // newest first; page.Next is the next page's cursor
	if err != nil {
		panic(err)
	}
	for _, job := range page.Jobs {
		fmt.Println(job.ID, job.State, job.ErrorMessage)
	}
	if err := c.PauseQueue(ctx, "default"); err != nil { // no server starts its jobs; submits are still accepted
		panic(err)
	}
	n, err := c.RetryMany(ctx, failed, nil) // back to pending with a fresh attempt budget
	fmt.Println("retried", n, err)
	queues, err := c.Queues(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(queues[0].Name, "paused:", queues[0].Paused, "pending:", queues[0].Pending)
	if err := c.ResumeQueue(ctx, "default"); err != nil {
		panic(err)
	}
	// Output:
	// 1 failed no greeting today
	// retried 1 <nil>
	// default paused: true pending: 1
}
