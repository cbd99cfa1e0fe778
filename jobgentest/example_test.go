package jobgentest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/jobgentest"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// t stands in for the *testing.T of a test in the examples.
var t = &testing.T{}

// ExampleRun runs one Resize job through its handler, as a server would,
// and looks at its typed output; then a Sender failure, which the worker
// retries after the kind's backoff.
func ExampleRun() {
	svc := &example.Service{}
	res := jobgentest.Run(t, example.ResizeKind, svc.HandleResize, example.Resize{Name: "g", Image: example.Gradient(64, 48), Width: 32})
	fmt.Println(res.Outcome, res.Output.Width, res.Output.Height)

	svc.Sender = example.SenderFunc(func(context.Context, string, string) error { return errors.New("mail server unavailable") })
	sent := jobgentest.Run(t, example.SendMessageKind, runtime.NoOutputFunc(svc.HandleSendMessage), example.SendMessage{To: "ada@example.com"})
	fmt.Println(sent.Outcome, sent.RetryAfter > 0, sent.Code)
	// On its last attempt the same failure fails the job.
	last := jobgentest.Run(t, example.SendMessageKind, runtime.NoOutputFunc(svc.HandleSendMessage), example.SendMessage{To: "ada@example.com"}, jobgentest.Attempt(5))
	fmt.Println(last.Outcome)
	// Output:
	// completed 32 24
	// retried true error
	// failed
}

// ExampleRequireSubmitted checks that code under test submitted a message
// to the right recipient, and nothing else.
func ExampleRequireSubmitted() {
	store := memory.New()
	client, _ := runtime.NewClient(store, runtime.ClientConfig{})
	defer client.Close()
	jobs := example.NewClients(client)
	// The code under test:
	jobs.SendMessage.Submit(context.Background(), example.SendMessage{To: "ada@example.com", Body: "welcome"}, nil)

	info := jobgentest.RequireSubmitted(t, store, example.SendMessageKind, func(m example.SendMessage) bool { return m.To == "ada@example.com" })
	fmt.Println(info.Args.Body)
	jobgentest.RequireSubmittedN(t, store, example.SendMessageKind, nil, 1)
	jobgentest.RequireNotSubmitted(t, store, example.ResizeKind, nil)
	// Output: welcome
}
