package runtime_test

import (
	"errors"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// TestNilMiddlewareRefused: a nil middleware in a config is an invalid
// option, found when the server or client is made.
func TestNilMiddlewareRefused(t *testing.T) {
	t.Parallel()
	store := memory.New()
	defer store.Close()
	if _, err := runtime.NewServer(store, runtime.Config{RunMiddleware: []runtime.RunMiddleware{nil}}); !errors.Is(err, runtime.ErrInvalidOption) {
		t.Errorf("NewServer with a nil run middleware: %v, want ErrInvalidOption", err)
	}
	if _, err := runtime.NewServer(store, runtime.Config{SubmitMiddleware: []runtime.SubmitMiddleware{nil}}); !errors.Is(err, runtime.ErrInvalidOption) {
		t.Errorf("NewServer with a nil submit middleware: %v, want ErrInvalidOption", err)
	}
	if _, err := runtime.NewClient(store, runtime.ClientConfig{SubmitMiddleware: []runtime.SubmitMiddleware{nil}}); !errors.Is(err, runtime.ErrInvalidOption) {
		t.Errorf("NewClient with a nil submit middleware: %v, want ErrInvalidOption", err)
	}
}
