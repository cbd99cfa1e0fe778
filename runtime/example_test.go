package runtime_test

import (
	"context"
	"fmt"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

type Greet struct {
	Name string `json:"name"`
}

type Greeting struct {
	Text string `json:"text"`
}

// greet is what jobgen generates for a //jobgen:job marker on Greet.
var greet = runtime.NewKind[Greet, Greeting](runtime.KindOpts{Name: "greet"})

// Example runs one job through the generic API that generated code wraps.
func Example() {
	ctx := context.Background()
	store := memory.New()
	defer store.Close()

	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		panic(err)
	}
	err = greet.Register(srv, func(ctx context.Context, job *runtime.Job[Greet]) (Greeting, error) {
		return Greeting{Text: "hello, " + job.Args.Name}, nil
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
	res, err := h.Wait(ctx)
	fmt.Println(res.Text, err)
	// Output: hello, gopher <nil>
}
