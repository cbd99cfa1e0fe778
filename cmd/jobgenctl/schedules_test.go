package main

import (
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

func TestSchedules(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		b.ok(t, "migrate", "up")
		if out := b.ok(t, "schedules", "list"); out != "SCHEDULE  KIND  QUEUE  SPEC  TIME ZONE  OVERLAP  MISSED  NEXT AT  LAST JOB\n" {
			t.Fatalf("schedules list with none:\n%q", out)
		}
		s := b.open(t)
		defer s.Close()
		for _, p := range []*storage.ScheduleUpsertParams{
			{Name: "nightly", Kind: "report", Queue: "reports", Input: []byte(`{}`), MaxAttempts: 3, Spec: "0 3 * * *",
				TimeZone: "Europe/Paris", Overlap: "skip", Missed: "catch_up", NextAt: t0.Add(time.Hour), Now: t0},
			{Name: "cleanup", Kind: "email", Queue: "default", Input: []byte(`{}`), MaxAttempts: 3, Spec: "@every 15m0s",
				Overlap: "queue", Missed: "skip", NextAt: t0.Add(15 * time.Minute), Now: t0},
		} {
			if _, err := s.ScheduleUpsert(t.Context(), p); err != nil {
				t.Fatal(err)
			}
		}
		var got struct {
			Schedules []scheduleJSON `json:"schedules"`
		}
		b.okJSON(t, &got, "schedules", "list")
		if len(got.Schedules) != 2 {
			t.Fatalf("schedules list --json: %+v", got)
		}
		c, n := got.Schedules[0], got.Schedules[1]
		if c.Name != "cleanup" || c.Spec != "@every 15m0s" || c.Overlap != "queue" || !c.NextAt.Equal(t0.Add(15*time.Minute)) ||
			n.Name != "nightly" || n.TimeZone != "Europe/Paris" || n.Queue != "reports" || n.LastJobID != 0 || !n.CreatedAt.Equal(t0) {
			t.Fatalf("schedules list --json: %+v", got.Schedules)
		}
		out := b.ok(t, "schedules", "list")
		for _, want := range []string{"cleanup   email   default  @every 15m0s", "0 3 * * *", "Europe/Paris", "2025-01-02T04:04:05Z"} {
			if !strings.Contains(out, want) {
				t.Errorf("schedules list lacks %q:\n%s", want, out)
			}
		}
	})
}
