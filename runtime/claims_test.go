package runtime

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestClaimsInFlightWait: a wait returns once the claims that entered
// before it have exited, not waiting for claims that enter after it
// began, and gives up with its context.
func TestClaimsInFlightWait(t *testing.T) {
	c := newClaimsInFlight()
	if c.busy() {
		t.Fatal("busy with no claim")
	}
	if err := c.wait(t.Context()); err != nil {
		t.Fatalf("wait with no claim: %v", err)
	}
	first := c.enter()
	done := make(chan error, 1)
	go func() { done <- c.wait(context.Background()) }()
	// A claim that enters once the wait has flipped the epoch counts in
	// the other slot; the wait must not wait for it.
	tick, timeout := time.NewTicker(time.Millisecond), time.After(10*time.Second)
	defer tick.Stop()
	for c.epoch.Load() != 2 { // the flip announces itself by nothing else
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatal("the wait did not flip the epoch")
		}
	}
	later := c.enter()
	if later == first {
		t.Fatalf("a claim after the flip counts in slot %d, the waited-for one", later)
	}
	select {
	case err := <-done:
		t.Fatalf("wait returned (%v) while a claim it waits for is in flight", err)
	default:
	}
	c.exit(first)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return after the claim exited")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with a claim in flight and a cancelled context: %v, want context.Canceled", err)
	}
	c.exit(later)
	if c.busy() {
		t.Fatal("busy after every claim exited")
	}
}
