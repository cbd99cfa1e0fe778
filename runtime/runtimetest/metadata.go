package runtimetest

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/jobgen/jobgen/runtime"
)

// testMetadata: the metadata of a submit reaches the handler on every
// attempt, as the handler's own copy, and the stored record; the caller
// may reuse its map; a job without metadata has none.
func testMetadata(t *testing.T, newStore NewStore) {
	seen := make(chan map[string]string, 4)
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) {
			seen <- maps.Clone(j.Metadata)
			if j.Attempt == 1 && j.Metadata != nil {
				j.Metadata["tenant"] = "changed by the handler"
				return Result{}, errTest
			}
			return Result{N: j.Attempt}, nil
		})
	})
	e.start()
	md := map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tenant": "acme"}
	want := maps.Clone(md)
	h := must(work.Submit(ctxT(t), e.client, Args{}, &runtime.SubmitOpts{Metadata: md}))
	md["tenant"] = "reused by the caller"
	if res := must(h.Wait(ctxT(t))); res.N != 2 {
		t.Fatalf("completed on attempt %d, want 2", res.N)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		if got := recv(t, seen, "the handler's metadata"); !maps.Equal(got, want) {
			t.Errorf("attempt %d: handler's metadata %v, want %v", attempt, got, want)
		}
	}
	if got := must(e.client.Get(ctxT(t), h.ID)).Metadata; !maps.Equal(got, want) {
		t.Errorf("Client.Get: metadata %v, want %v", got, want)
	}
	if got := must(work.Get(ctxT(t), e.client, h.ID)).Job.Metadata; !maps.Equal(got, want) {
		t.Errorf("Kind.Get: metadata %v, want %v", got, want)
	}

	h = must(work.Submit(ctxT(t), e.client, Args{}, nil))
	must(h.Wait(ctxT(t)))
	if got := recv(t, seen, "the handler's metadata"); got != nil {
		t.Errorf("handler of a job without metadata sees %v, want nil", got)
	}
	if got := getJob(t, e, h.ID).Metadata; got != nil {
		t.Errorf("stored metadata of a job without any: %v, want nil", got)
	}
}

// testBadMetadata: metadata out of bounds fails the submit, through the
// attached and a detached client, with a *runtime.MetadataError naming the
// key and matching ErrInvalidOption; nothing is written.
func testBadMetadata(t *testing.T, newStore NewStore) {
	e := newEnv(t, newStore, runtime.Config{}, func(s *runtime.Server) {
		register(t, s, work, func(ctx context.Context, j *runtime.Job[Args]) (Result, error) { return Result{}, nil })
	})
	e.start()
	detached := must(runtime.NewClient(e.store, runtime.ClientConfig{Logger: quietLogger}))
	t.Cleanup(func() { detached.Close() })
	for _, tc := range []struct {
		md  map[string]string
		key string
	}{
		{map[string]string{"ok": "v", "bad key": "v"}, "bad key"},
		{map[string]string{"k": "nul\x00"}, "k"},
		{manyMetadata(65), ""},
	} {
		for name, c := range map[string]*runtime.Client{"attached": e.client, "detached": detached} {
			_, err := work.Submit(ctxT(t), c, Args{}, &runtime.SubmitOpts{Metadata: tc.md})
			var me *runtime.MetadataError
			if !errors.Is(err, runtime.ErrInvalidOption) || !errors.As(err, &me) || me.Key != tc.key {
				t.Errorf("%s submit with metadata %q: %v, want a *MetadataError about key %q matching ErrInvalidOption", name, tc.md, err, tc.key)
			}
		}
	}
	if n := e.store.inserts.Load(); n != 0 {
		t.Errorf("%d inserts, want none", n)
	}
}

// manyMetadata returns metadata of n keys.
func manyMetadata(n int) map[string]string {
	md := make(map[string]string, n)
	for i := range n {
		md["k"+string(rune('a'+i/26))+string(rune('a'+i%26))] = "v"
	}
	return md
}
