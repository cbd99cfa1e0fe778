package memory_test

import (
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// TestPeerSlowReader: a subscriber that falls behind loses the newest
// notifications and is told so with a NotifyResync.
func TestPeerSlowReader(t *testing.T) {
	t.Parallel()
	s := memory.New()
	defer s.Close()
	p := s.Peer()
	defer p.Close()
	ch, err := p.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const sent = 2000 // more than a subscription holds
	for i := range sent {
		if err := p.Publish(t.Context(), storage.Notification{Kind: storage.NotifyProgress, JobID: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(10 * time.Second)
	for got := 0; ; got++ {
		select {
		case n := <-ch:
			if n.Kind == storage.NotifyResync {
				if got >= sent {
					t.Fatalf("resync after all %d notifications arrived", got)
				}
				return
			}
		case <-timeout:
			t.Fatalf("no resync after %d notifications", got)
		}
	}
}
