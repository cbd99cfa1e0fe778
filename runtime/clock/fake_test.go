package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/clock"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func fired(c <-chan time.Time) (time.Time, bool) {
	select {
	case at := <-c:
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestFakeTimer(t *testing.T) {
	f := clock.NewFake(t0)
	tm := f.NewTimer(time.Second)
	if f.Waiters() != 1 {
		t.Fatalf("waiters %d, want 1", f.Waiters())
	}
	f.Advance(999 * time.Millisecond)
	if _, ok := fired(tm.C()); ok {
		t.Fatal("timer fired early")
	}
	f.Advance(time.Millisecond)
	if at, ok := fired(tm.C()); !ok || !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("timer: fired %v at %v, want at %v", ok, at, t0.Add(time.Second))
	}
	if f.Waiters() != 0 {
		t.Fatalf("waiters %d after firing, want 0", f.Waiters())
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a fired timer reported it armed")
	}
	f.Advance(time.Second)
	if tm.Reset(time.Minute) { // fired: not armed any more
		t.Fatal("Reset after firing reported it armed")
	}
	if _, ok := fired(tm.C()); ok {
		t.Fatal("a value sent before Reset was received after it")
	}
	if !tm.Stop() || tm.Stop() {
		t.Fatal("Stop: want true once, then false")
	}
	if !f.Now().Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("now %v", f.Now())
	}
}

func TestFakeTicker(t *testing.T) {
	f := clock.NewFake(t0)
	tk := f.NewTicker(10 * time.Second)
	f.Advance(35 * time.Second) // one value: the channel holds one
	if at, ok := fired(tk.C()); !ok || !at.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("tick %v %v", ok, at)
	}
	if _, ok := fired(tk.C()); ok {
		t.Fatal("two ticks from one Advance")
	}
	f.Advance(5 * time.Second) // next tick at 40s
	if at, ok := fired(tk.C()); !ok || !at.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("tick %v %v, want at 40s", ok, at)
	}
	tk.Stop()
	if f.Waiters() != 0 {
		t.Fatalf("waiters %d after Stop", f.Waiters())
	}
}

func TestFakeBlockUntil(t *testing.T) {
	f := clock.NewFake(t0)
	done := make(chan time.Time)
	go func() {
		tm := f.NewTimer(time.Minute)
		done <- <-tm.C()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Minute)
	if at := <-done; !at.Equal(t0.Add(time.Minute)) {
		t.Fatalf("fired at %v", at)
	}
	short, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.BlockUntil(short, 1); err != context.Canceled {
		t.Fatalf("BlockUntil with no waiter: %v, want context.Canceled", err)
	}
}

func TestReal(t *testing.T) {
	var c clock.Clock = clock.Real{}
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
	tk := c.NewTicker(time.Millisecond)
	<-tk.C()
	tk.Stop()
	if c.Now().IsZero() {
		t.Fatal("zero time")
	}
}
