package runtimetest

import (
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// windowed is a kind whose key (Args.Text) holds for an hour after a job
// holding it was created.
var windowed = runtime.NewKind[Args, Result](runtime.KindOpts{Name: "windowed", UniqueFor: time.Hour}).
	WithUniqueKey(func(a Args) string { return a.Text })

// testUniqueWindow: a kind's unique window reaches storage from the kind
// and from SubmitOpts.UniqueFor: inside it a submit returns the finished
// job as a duplicate, after it (on the client's clock) or with the window
// overridden to zero a new job is stored.
func testUniqueWindow(t *testing.T, newStore NewStore) {
	fc := newFakeClock()
	c, err := runtime.NewClient(newStore(t), runtime.ClientConfig{Clock: fc, Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := ctxT(t)
	first := must(windowed.Submit(ctx, c, Args{Text: "a"}, nil))
	if err := first.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	fc.Advance(59 * time.Minute)
	if again := must(windowed.Submit(ctx, c, Args{Text: "a"}, nil)); !again.Duplicate || again.ID != first.ID {
		t.Fatalf("submit inside the window = %+v, want job %d as a duplicate", again, first.ID)
	}
	none := time.Duration(0)
	second := must(windowed.Submit(ctx, c, Args{Text: "a"}, &runtime.SubmitOpts{UniqueFor: &none}))
	if second.Duplicate {
		t.Fatalf("submit with the window overridden to zero = %+v, want a new job", second)
	}
	if err := second.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	fc.Advance(time.Hour)
	if third := must(windowed.Submit(ctx, c, Args{Text: "a"}, nil)); third.Duplicate {
		t.Fatalf("submit after the window = %+v, want a new job", third)
	}
	negative := -time.Second
	if _, err := windowed.Submit(ctx, c, Args{Text: "b"}, &runtime.SubmitOpts{UniqueFor: &negative}); !isErr(err, runtime.ErrInvalidOption) {
		t.Fatalf("submit with a negative window: %v, want ErrInvalidOption", err)
	}
}
