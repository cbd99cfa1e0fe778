package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobgen/jobgen/runtime/storage"
)

func TestJobsList(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		seed(t, b)
		rfc := func(tm time.Time) string { return tm.Format(time.RFC3339) }
		for _, tc := range []struct {
			args []string
			want []int64
		}{
			{nil, []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
			{[]string{"--order", "oldest"}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
			{[]string{"--state", "failed"}, []int64{3, 2}},
			{[]string{"--state", "failed,aborted"}, []int64{6, 3, 2}},
			{[]string{"--state", "failed", "--state", "completed"}, []int64{4, 3, 2, 1}},
			{[]string{"--kind", "resize"}, []int64{9, 4, 3}},
			{[]string{"--queue", "images,reports"}, []int64{10, 9, 4, 3}},
			{[]string{"--kind", "email", "--state", "pending"}, []int64{8, 7}},
			{[]string{"--unique-key", "user-7"}, []int64{7}},
			{[]string{"--created-after", rfc(created(5))}, []int64{10, 9, 8, 7, 6, 5}},
			{[]string{"--created-before", rfc(created(3))}, []int64{2, 1}},
			{[]string{"--created-after", rfc(created(2)), "--created-before", rfc(created(4))}, []int64{3, 2}},
			{[]string{"--finished-before", rfc(created(4))}, []int64{3, 2, 1}},
			{[]string{"--finished-after", rfc(created(4))}, []int64{6, 4}},
			// A duration is that long ago; the fixture is older than an hour.
			{[]string{"--created-after", "1h"}, []int64{}},
			{[]string{"--created-before", "1h", "--kind", "report"}, []int64{10, 6}},
			{[]string{"--finished-before", "2d", "--queue", "images"}, []int64{4, 3}},
			{[]string{"--kind", "nothing"}, []int64{}},
		} {
			if got := b.ids(t, tc.args...); !cmp.Equal(got, tc.want) {
				t.Errorf("jobs list %s = %v, want %v", strings.Join(tc.args, " "), got, tc.want)
			}
		}

		// The cursor walks every job once, in order, a page at a time.
		for _, order := range []string{"oldest", "newest"} {
			var got []int64
			cursor, pages := "", 0
			for {
				var page listPage
				b.okJSON(t, &page, "jobs", "list", "--order", order, "--limit", "3", "--cursor", cursor)
				pages++
				for _, j := range page.Jobs {
					got = append(got, j.ID)
				}
				if page.Next == "" {
					break
				}
				cursor = page.Next
			}
			want := b.ids(t, "--order", order)
			if !cmp.Equal(got, want) || pages != 4 {
				t.Errorf("--order %s in pages of 3: %v in %d pages, want %v in 4", order, got, pages, want)
			}
		}
		r := b.run(t, "jobs", "list", "--limit", "4")
		if r.code != 0 || !strings.HasPrefix(r.stderr, "more jobs follow: --cursor ") {
			t.Fatalf("a table page with more to come: %+v", r)
		}

		golden(t, "list.golden", b.ok(t, "jobs", "list"))
		golden(t, "list_failed.golden", b.ok(t, "jobs", "list", "--state", "failed", "--order", "oldest"))
	})
}

func TestJobsShow(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		seed(t, b)
		golden(t, "show_completed.golden", b.ok(t, "jobs", "show", "1"))
		golden(t, "show_running.golden", b.ok(t, "jobs", "show", "5"))

		var j jobJSON
		b.okJSON(t, &j, "jobs", "show", "2")
		var input bytes.Buffer
		if err := json.Compact(&input, j.Input); err != nil {
			t.Fatal(err)
		}
		j.Input = input.Bytes()
		at := created(2)
		want := jobJSON{
			ID: 2, Kind: "email", Queue: "default", State: storage.StateFailed, Attempt: 1, MaxAttempts: 3,
			Input:        json.RawMessage(`{"n":2,"to":"user-2@example.com"}`),
			Output:       json.RawMessage(`null`),
			ErrorMessage: "smtp: connection refused", ErrorCode: "error",
			CreatedAt: &at, RunAfter: &at, AttemptedAt: ptr(at.Add(time.Second)), FinishedAt: ptr(at.Add(2 * time.Second)),
		}
		if diff := cmp.Diff(want, j); diff != "" {
			t.Fatalf("jobs show 2 --json (-want +got):\n%s", diff)
		}
		// The fields are snake_case, and unset times are null.
		out := b.ok(t, "jobs", "show", "7", "--json")
		for _, field := range []string{`"max_attempts": 3`, `"unique_key": "user-7"`, `"finished_at": null`, `"timeout_ms": 0`} {
			if !strings.Contains(out, field) {
				t.Errorf("jobs show 7 --json lacks %s:\n%s", field, out)
			}
		}
		b.fails(t, 1, "not found", "jobs", "show", "99")
		b.fails(t, 2, "want one job id", "jobs", "show", "1", "2")
	})
}

func ptr[T any](v T) *T { return &v }

func TestJobsRetry(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		seed(t, b)
		if out := b.ok(t, "jobs", "retry", "2"); out != "retried job 2\n" {
			t.Fatalf("jobs retry 2: %q", out)
		}
		var j jobJSON
		b.okJSON(t, &j, "jobs", "show", "2")
		if j.State != storage.StatePending || j.Attempt != 0 || j.FinishedAt != nil || j.ErrorMessage != "smtp: connection refused" {
			t.Fatalf("job 2 after retry: %+v", j)
		}
		b.fails(t, 1, "cannot be retried", "jobs", "retry", "1")
		b.fails(t, 1, "not found", "jobs", "retry", "99")

		// A bulk retry needs --yes, and says what it would do.
		before := b.states(t)
		b.fails(t, 2, "1 job matches; nothing changed: add --yes to retry them", "jobs", "retry", "--state", "failed")
		b.fails(t, 2, "add --yes", "jobs", "retry", "3", "6")
		b.fails(t, 2, "refusing to retry every job", "jobs", "retry", "--yes")
		if after := b.states(t); !cmp.Equal(before, after) {
			t.Fatalf("a refused retry changed jobs: %v -> %v", before, after)
		}
		var res map[string]int
		b.okJSON(t, &res, "jobs", "retry", "--all", "--yes")
		if res["retried"] != 2 { // 3 failed, 6 aborted
			t.Fatalf("jobs retry --all --yes: %v", res)
		}
		if got := b.ids(t, "--state", "pending"); !cmp.Equal(got, []int64{10, 9, 8, 7, 6, 3, 2}) {
			t.Fatalf("pending after the retries: %v", got)
		}
	})
}

func TestJobsAbort(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		seed(t, b)
		before := b.states(t)
		b.fails(t, 2, "2 jobs match; nothing changed: add --yes to abort them", "jobs", "abort", "--state", "pending", "--queue", "default")
		b.fails(t, 2, "no jobs match", "jobs", "abort", "--state", "completed")
		b.fails(t, 2, "refusing to abort every job", "jobs", "abort")
		if after := b.states(t); !cmp.Equal(before, after) {
			t.Fatalf("a refused abort changed jobs: %v -> %v", before, after)
		}
		var res map[string]int
		b.okJSON(t, &res, "jobs", "abort", "--state", "pending", "--queue", "default", "--yes")
		if res["aborted"] != 2 {
			t.Fatalf("jobs abort --state pending --queue default --yes: %v", res)
		}
		if got := b.ids(t, "--state", "aborted"); !cmp.Equal(got, []int64{8, 7, 6}) {
			t.Fatalf("aborted jobs: %v", got)
		}
		if out := b.ok(t, "jobs", "abort", "9"); out != "aborted job 9\n" {
			t.Fatalf("jobs abort 9: %q", out)
		}
		if out := b.ok(t, "jobs", "abort", "5"); out != "asked running job 5 to abort\n" {
			t.Fatalf("jobs abort 5: %q", out)
		}
		var j jobJSON
		b.okJSON(t, &j, "jobs", "show", "5")
		if j.State != storage.StateRunning || j.AbortRequestedAt == nil {
			t.Fatalf("job 5 after the abort request: %+v", j)
		}
		b.fails(t, 1, "already finished", "jobs", "abort", "1")
	})
}

func TestJobsDelete(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		seed(t, b)
		before := b.states(t)
		b.fails(t, 2, "refusing to delete every job: give job ids or a filter, or --all", "jobs", "delete")
		b.fails(t, 2, "5 jobs match; nothing changed: add --yes to delete them", "jobs", "delete", "--all")
		b.fails(t, 2, "2 jobs match", "jobs", "delete", "--state", "completed")
		b.fails(t, 2, "9 jobs match", "jobs", "delete", "--all", "--pending")
		b.fails(t, 1, "cannot be deleted", "jobs", "delete", "7")
		b.fails(t, 1, "cannot be deleted", "jobs", "delete", "5", "--pending")
		b.fails(t, 1, "not found", "jobs", "delete", "99")
		if after := b.states(t); !cmp.Equal(before, after) {
			t.Fatalf("a refused delete changed jobs: %v -> %v", before, after)
		}
		var res map[string]int
		b.okJSON(t, &res, "jobs", "delete", "--state", "completed", "--yes")
		if res["deleted"] != 2 {
			t.Fatalf("jobs delete --state completed --yes: %v", res)
		}
		if out := b.ok(t, "jobs", "delete", "7", "--pending"); out != "deleted job 7\n" {
			t.Fatalf("jobs delete 7 --pending: %q", out)
		}
		if out := b.ok(t, "jobs", "delete", "--all", "--yes"); out != "deleted 3 jobs\n" { // 2, 3 and 6
			t.Fatalf("jobs delete --all --yes: %q", out)
		}
		if got := b.ids(t); !cmp.Equal(got, []int64{10, 9, 8, 5}) {
			t.Fatalf("jobs left: %v", got)
		}
	})
}

// TestBadInput gives each command line a one-line error and its exit
// status, and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *backend) {
		seed(t, b)
		before := b.states(t)
		for _, tc := range []struct {
			code int
			want string
			args []string
		}{
			{2, `unknown state "bogus": want one of pending, running, completed, failed, aborted`, []string{"jobs", "list", "--state", "bogus"}},
			{2, `unknown state "done"`, []string{"jobs", "delete", "--state", "done", "--yes"}},
			{2, "malformed cursor", []string{"jobs", "list", "--cursor", "garbage"}},
			{2, "made for the other order", []string{"jobs", "list", "--order", "oldest", "--cursor", newestCursor(t, b)}},
			{2, `--order "sideways": want newest or oldest`, []string{"jobs", "list", "--order", "sideways"}},
			{2, "--limit 0: want 1 to 1000", []string{"jobs", "list", "--limit", "0"}},
			{2, "--limit 1001", []string{"jobs", "list", "--limit", "1001"}},
			{2, "want an RFC 3339 time", []string{"jobs", "list", "--created-after", "yesterday"}},
			{2, "want an RFC 3339 time", []string{"jobs", "retry", "--finished-before", "-1h", "--yes"}},
			{2, `job id "abc": want a positive integer`, []string{"jobs", "show", "abc"}},
			{2, `job id "0"`, []string{"jobs", "retry", "0"}},
			{2, "flag provided but not defined: -frobnicate", []string{"jobs", "list", "--frobnicate"}},
			{2, `unexpected argument "extra"`, []string{"jobs", "list", "extra"}},
			{2, `unknown subcommand "frobnicate"`, []string{"jobs", "frobnicate"}},
			{2, "name at least one queue", []string{"queues", "pause"}},
			{2, `invalid queue name "no spaces"`, []string{"queues", "pause", "no spaces"}},
			{1, "not found", []string{"jobs", "show", "999"}},
			{1, "not found", []string{"jobs", "retry", "999"}},
			{1, "not found", []string{"jobs", "abort", "999"}},
		} {
			b.fails(t, tc.code, tc.want, tc.args...)
		}
		if after := b.states(t); !cmp.Equal(before, after) {
			t.Fatalf("bad input changed jobs: %v -> %v", before, after)
		}
	})
}

// newestCursor returns a cursor of a newest-first page.
func newestCursor(t *testing.T, b *backend) string {
	var page listPage
	b.okJSON(t, &page, "jobs", "list", "--limit", "1")
	if page.Next == "" {
		t.Fatal("no next page")
	}
	return page.Next
}
