package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime"
)

// heartbeats counts the Heartbeat jobs that complete: the example's
// periodic job, whose schedule example.Register stores.
type heartbeats struct {
	n      atomic.Int64
	cancel func()
}

func watchHeartbeats(client *runtime.Client) *heartbeats {
	h := &heartbeats{}
	h.cancel = client.Subscribe(func(ev runtime.Event) {
		if ev.Kind == runtime.EventCompleted && ev.JobKind == example.HeartbeatKind.Name() {
			h.n.Add(1)
		}
	})
	return h
}

// report waits for the first heartbeat, if none has come yet, and prints
// how often the schedule fired and when it fires next.
func (h *heartbeats) report(ctx context.Context, client *runtime.Client, out io.Writer) error {
	defer h.cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for h.n.Load() == 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the first heartbeat: %w", ctx.Err())
		}
	}
	scs, err := client.ListSchedules(ctx)
	if err != nil {
		return err
	}
	for _, sc := range scs {
		fmt.Fprintf(out, "\nschedule %s (%s, queue %s) fired %d time(s) while the batch ran; next tick in %v\n",
			sc.Name, sc.Spec, sc.Queue, h.n.Load(), time.Until(sc.NextAt).Round(time.Millisecond))
	}
	return nil
}
