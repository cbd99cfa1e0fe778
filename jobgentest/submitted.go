package jobgentest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// Match selects jobs by their typed arguments; nil matches every job.
type Match[In any] func(args In) bool

// Equal matches jobs whose arguments equal want (reflect.DeepEqual).
func Equal[In any](want In) Match[In] {
	return func(args In) bool { return reflect.DeepEqual(args, want) }
}

// Submitted returns every stored job of kind k in store (any state), oldest
// first, with its arguments decoded, that match selects. store is any
// backend's store, or a transaction's view of it, which also sees the jobs
// of that transaction.
func Submitted[In, Out any](t testing.TB, store storage.Storage, k *runtime.Kind[In, Out], match Match[In]) []*runtime.Info[In, Out] {
	t.Helper()
	c, err := runtime.NewClient(store, runtime.ClientConfig{})
	if err != nil {
		t.Fatalf("jobgentest: %v", err)
	}
	defer c.Close()
	var found []*runtime.Info[In, Out]
	for after := int64(0); ; {
		jobs, err := store.JobList(context.Background(), &storage.JobListParams{Kind: k.Name(), AfterID: after, Limit: 500})
		if err != nil {
			t.Fatalf("jobgentest: list %s jobs: %v", k.Name(), err)
		}
		for _, j := range jobs {
			info, err := k.Get(context.Background(), c, j.ID)
			if err != nil {
				t.Fatalf("jobgentest: %v", err)
			}
			if match == nil || match(info.Args) {
				found = append(found, info)
			}
		}
		if len(jobs) < 500 {
			return found
		}
		after = jobs[len(jobs)-1].ID
	}
}

// RequireSubmitted fails t unless store holds at least one job of kind k
// that match selects, and returns the first.
func RequireSubmitted[In, Out any](t testing.TB, store storage.Storage, k *runtime.Kind[In, Out], match Match[In]) *runtime.Info[In, Out] {
	t.Helper()
	found := Submitted(t, store, k, match)
	if len(found) == 0 {
		t.Fatalf("jobgentest: no %s job submitted that matches%s", k.Name(), others(t, store, k))
	}
	return found[0]
}

// RequireSubmittedN fails t unless store holds exactly n jobs of kind k
// that match selects, and returns them.
func RequireSubmittedN[In, Out any](t testing.TB, store storage.Storage, k *runtime.Kind[In, Out], match Match[In], n int) []*runtime.Info[In, Out] {
	t.Helper()
	found := Submitted(t, store, k, match)
	if len(found) != n {
		t.Fatalf("jobgentest: %d %s jobs submitted that match, want %d%s", len(found), k.Name(), n, others(t, store, k))
	}
	return found
}

// RequireNotSubmitted fails t when store holds a job of kind k that match
// selects.
func RequireNotSubmitted[In, Out any](t testing.TB, store storage.Storage, k *runtime.Kind[In, Out], match Match[In]) {
	t.Helper()
	if found := Submitted(t, store, k, match); len(found) > 0 {
		t.Fatalf("jobgentest: %d %s jobs submitted that match, want none; the first has arguments %+v", len(found), k.Name(), found[0].Args)
	}
}

// others describes the jobs of kind k in store, for a failure message.
func others[In, Out any](t testing.TB, store storage.Storage, k *runtime.Kind[In, Out]) string {
	t.Helper()
	all := Submitted(t, store, k, nil)
	if len(all) == 0 {
		return "; there is none of the kind"
	}
	s := "; the kind's jobs have arguments:"
	for i, info := range all {
		if i == 5 {
			s += "\n\t..."
			break
		}
		s += fmt.Sprintf("\n\t%+v", info.Args)
	}
	return s
}
