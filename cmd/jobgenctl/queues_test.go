package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type queuesJSON struct {
	Queues []queueJSON `json:"queues"`
}

func TestQueues(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		seed(t, b)
		paused := func() map[string]bool {
			var qs queuesJSON
			b.okJSON(t, &qs, "queues", "list")
			out := make(map[string]bool)
			for _, q := range qs.Queues {
				out[q.Name] = q.Paused
				if q.Paused != (q.PausedAt != nil) {
					t.Fatalf("queue %s: paused %v at %v", q.Name, q.Paused, q.PausedAt)
				}
			}
			return out
		}
		if got := paused(); !cmp.Equal(got, map[string]bool{"default": false, "images": false, "reports": false}) {
			t.Fatalf("queues before pausing: %v", got)
		}
		var qs queuesJSON
		b.okJSON(t, &qs, "queues", "list")
		if q := qs.Queues[0]; q.Name != "default" || q.Pending != 2 || q.Running != 1 || q.OldestReady == nil || !q.OldestReady.Equal(created(7)) {
			t.Fatalf("queue default: %+v", q)
		}

		if out := b.ok(t, "queues", "pause", "default", "later"); out != "paused queue default\npaused queue later\n" {
			t.Fatalf("queues pause: %q", out)
		}
		if got := paused(); !cmp.Equal(got, map[string]bool{"default": true, "images": false, "later": true, "reports": false}) {
			t.Fatalf("queues after pausing: %v", got)
		}
		if out := b.ok(t, "queues", "list"); !strings.Contains(out, "PAUSED AT") || !strings.Contains(out, "later") {
			t.Fatalf("queues list:\n%s", out)
		}
		var res map[string][]string
		b.okJSON(t, &res, "queues", "resume", "default")
		if !cmp.Equal(res, map[string][]string{"resumed": {"default"}}) {
			t.Fatalf("queues resume --json: %v", res)
		}
		if got := paused(); !cmp.Equal(got, map[string]bool{"default": false, "images": false, "later": true, "reports": false}) {
			t.Fatalf("queues after resuming: %v", got)
		}
	})
}

type statsJSON struct {
	Queues []struct {
		stateCounts
		OldestReady    *string  `json:"oldest_ready"`
		OldestReadyAge *float64 `json:"oldest_ready_age_seconds"`
	} `json:"queues"`
	Kinds []stateCounts `json:"kinds"`
	Now   *string       `json:"now"`
}

func TestStats(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		seed(t, b)
		var st statsJSON
		b.okJSON(t, &st, "stats")
		var queues []stateCounts
		for _, q := range st.Queues {
			queues = append(queues, q.stateCounts)
			if (q.OldestReady == nil) != (q.Pending == 0) || (q.OldestReadyAge == nil) != (q.OldestReady == nil) {
				t.Errorf("queue %s: oldest ready %v, age %v", q.Name, q.OldestReady, q.OldestReadyAge)
			}
		}
		wantQueues := []stateCounts{
			{Name: "default", Pending: 2, Running: 1, Completed: 1, Failed: 1, Aborted: 1},
			{Name: "images", Pending: 1, Completed: 1, Failed: 1},
			{Name: "reports", Pending: 1},
		}
		if diff := cmp.Diff(wantQueues, queues); diff != "" {
			t.Errorf("stats queues (-want +got):\n%s", diff)
		}
		wantKinds := []stateCounts{
			{Name: "email", Pending: 2, Running: 1, Completed: 1, Failed: 1},
			{Name: "report", Pending: 1, Aborted: 1},
			{Name: "resize", Pending: 1, Completed: 1, Failed: 1},
		}
		if diff := cmp.Diff(wantKinds, st.Kinds); diff != "" {
			t.Errorf("stats kinds (-want +got):\n%s", diff)
		}
		if st.Now == nil || *st.Queues[0].OldestReady != created(7).Format("2006-01-02T15:04:05Z07:00") || *st.Queues[0].OldestReadyAge < 3600 {
			t.Errorf("stats of queue default: now %v, oldest %v, age %v", st.Now, st.Queues[0].OldestReady, st.Queues[0].OldestReadyAge)
		}
		out := b.ok(t, "stats")
		lines := strings.Split(out, "\n")
		if !strings.HasPrefix(lines[0], "QUEUE  ") || !strings.HasPrefix(lines[1], "default  2  ") || !strings.HasPrefix(lines[5], "KIND  ") {
			t.Errorf("stats:\n%s", out)
		}
	})
}
