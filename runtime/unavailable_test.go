package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// downStore is a store whose inserts fail with err, as a backend's do while
// its database is out of reach.
type downStore struct {
	storage.Storage
	err error
}

func (s downStore) JobInsert(context.Context, *storage.JobInsertParams) (*storage.JobInsertResult, error) {
	return nil, s.err
}

func (s downStore) JobInsertClaim(context.Context, *storage.JobInsertParams, *storage.JobClaimParams) (*storage.JobInsertResult, *storage.JobClaimResult, error) {
	return nil, nil, s.err
}

// TestSubmitUnavailable: a submit that storage cannot serve for a passing
// condition (unavailable, busy) fails with an *UnavailableError that
// matches ErrUnavailable and unwraps to the storage's error, through a
// detached client and through a server's; invalid input does not match it.
func TestSubmitUnavailable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, cause := range []error{
		fmt.Errorf("backend: insert: %w: connection refused", storage.ErrUnavailable),
		fmt.Errorf("backend: insert: %w", storage.ErrBusy),
	} {
		store := downStore{Storage: memory.New(), err: cause}
		defer store.Close()
		detached, err := runtime.NewClient(store, runtime.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer detached.Close()
		srv, err := runtime.NewServer(store, runtime.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := tellKind.Register(srv, func(context.Context, *runtime.Job[tell]) (runtime.NoOutput, error) {
			return runtime.NoOutput{}, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer srv.Stop(ctx)
		for name, c := range map[string]*runtime.Client{"detached": detached, "attached": srv.Client()} {
			_, err := tellKind.Submit(ctx, c, tell{}, nil)
			var ue *runtime.UnavailableError
			switch {
			case !errors.Is(err, runtime.ErrUnavailable):
				t.Errorf("%s submit with storage failing with %q: %v, want an error matching ErrUnavailable", name, cause, err)
			case !errors.As(err, &ue) || !errors.Is(ue.Err, cause):
				t.Errorf("%s submit: %v is not an *UnavailableError with the storage's error", name, err)
			case !strings.Contains(err.Error(), cause.Error()):
				t.Errorf("%s submit: %q does not say the storage's error", name, err)
			}
			_, err = tellKind.Submit(ctx, c, tell{}, &runtime.SubmitOpts{Queue: "no spaces"})
			if !errors.Is(err, runtime.ErrInvalidName) || errors.Is(err, runtime.ErrUnavailable) {
				t.Errorf("%s submit to an invalid queue: %v, want ErrInvalidName and not ErrUnavailable", name, err)
			}
		}
	}
}
