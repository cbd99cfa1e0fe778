package example_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// Example wires the Service into a server with the generated Register and
// runs a report through the generated typed client.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		panic(err)
	}
	if err := example.Register(srv, &example.Service{}); err != nil {
		panic(err)
	}
	if err := srv.Start(ctx); err != nil {
		panic(err)
	}
	defer srv.Stop(ctx)

	jobs := example.NewClients(srv.Client())
	h, err := jobs.Report.Submit(ctx, example.Report{
		Title: "Order 7",
		Lines: []example.LineItem{{Product: "stapler", Quantity: 2, Price: 4.25}},
	}, nil)
	if err != nil {
		panic(err)
	}
	res, err := h.Wait(ctx) // res is an example.ReportResult
	if err != nil {
		panic(err)
	}
	fmt.Print(res.Text)
	// Output:
	// Order 7
	// stapler         2 x 4.25 = 8.50
	// Total: 8.50
}
