//go:build cgo

package dashboard

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

var screenshots = flag.Bool("screenshots", false, "write the browser test's screenshots of the pages into ../docs")

// chromium returns the path of the Chromium binary. Without one the test
// fails when CI=true or JOBGEN_TEST_BROWSER_REQUIRED=1, and skips
// elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "no Chromium found for the browser tests (on Debian: apt-get install -y chromium)"
	if os.Getenv("CI") == "true" || os.Getenv("JOBGEN_TEST_BROWSER_REQUIRED") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless Chromium and returns a tab's context.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // the tests may run as root in a container
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	return tab
}

// TestBrowser drives the dashboard, mounted under a prefix over a SQLite
// store, in a real browser: the queues, the jobs and the schedules, a job with markup in
// its arguments, a running job's live progress and its abort, a pause that
// holds a retried and a new job, and the resume that lets them run.
func TestBrowser(t *testing.T) {
	e := setupOn(t, openSQLite(t), nil)
	mux := http.NewServeMux()
	mux.Handle("/admin/jobs/", http.StripPrefix("/admin/jobs", e.dash))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close) // after the browser's end, and the dashboard's, ended the streams
	tab := browser(t)
	root := ts.URL + "/admin/jobs/"
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shoot := func(name string) {
		t.Helper()
		if !*screenshots {
			return
		}
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	poll := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("%s (%s): %v", what, expr, err)
		}
	}

	// Jobs of every state.
	xss := e.submit(Work{Text: `<script>window.pwned = 1</script><b>bold</b>`})
	failed := e.submit(Work{Text: "bad input", Fail: true})
	for i := range 3 {
		e.waitState(e.submit(Work{Text: fmt.Sprint("report ", i)}), storage.StateCompleted)
	}
	e.waitState(xss, storage.StateCompleted)
	e.waitState(failed, storage.StateFailed)
	running := e.submit(Work{Text: "resize", Block: true})
	e.waitState(running, storage.StateRunning)
	// Schedules that tick after the test.
	ctx := context.Background()
	if _, err := workKind.AddSchedule(ctx, e.client, "nightly-report", runtime.Cron("30 2 * * *"), Work{Text: "<b>daily</b> report"}, &runtime.ScheduleOpts{TimeZone: "Europe/Paris", Missed: runtime.SkipMissed}); err != nil {
		t.Fatal(err)
	}
	if _, err := idleKind.AddSchedule(ctx, e.client, "cleanup", runtime.Every(15*time.Minute), Work{Text: "old exports"}, &runtime.ScheduleOpts{Overlap: runtime.OverlapQueue}); err != nil {
		t.Fatal(err)
	}

	run("the queues page",
		chromedp.Navigate(root),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-queue="default"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)),
	)
	shoot("dashboard-queues.png")

	run("the jobs page",
		chromedp.Click(chromedp.CSS(`nav a[href="jobs"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-job="%d"]`, running))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-job="%d"]`, xss))),
	)
	shoot("dashboard-jobs.png")

	run("the schedules page",
		chromedp.Click(chromedp.CSS(`nav a[href="schedules"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-schedule="nightly-report"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-schedule="cleanup"]`)),
	)
	if bold, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.querySelector("td.args b") !== null`)); err != nil || bold {
		t.Errorf("a schedule's arguments rendered as markup (%v)", err)
	}
	shoot("dashboard-schedules.png")

	run("the job with markup in its arguments", chromedp.Navigate(fmt.Sprintf("%sjobs/%d", root, xss)), chromedp.WaitVisible(chromedp.CSS("#input")))
	input, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#input")))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"text": "<script>window.pwned = 1</script><b>bold</b>"`; !strings.Contains(input, want) {
		t.Errorf("arguments shown as %q, want the text %q", input, want)
	}
	if pwned, err := chromedp.Run(tab, chromedp.Evaluate[bool](`window.pwned === 1 || document.querySelector("#input b") !== null`)); err != nil || pwned {
		t.Errorf("the arguments' markup ran or rendered (%v)", err)
	}

	run("the running job's page",
		chromedp.Navigate(fmt.Sprintf("%sjobs/%d", root, running)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)),
	)
	e.steps <- 30
	poll("the progress bar at 30%", `document.getElementById("progress").value === 30`)
	e.steps <- 70
	poll("the progress bar at 70%", `document.getElementById("progress").value === 70`)
	poll("the progress text", `document.getElementById("progress-text").textContent === "70% · step"`)
	shoot("dashboard-job.png")
	run("abort from the page",
		chromedp.Click(chromedp.CSS("#abort")),
		chromedp.WaitVisible(chromedp.CSS(`#state.aborted`)),
	)
	if job, _ := e.client.Get(context.Background(), running); job.State != storage.StateAborted {
		t.Errorf("aborted job is %s", job.State)
	}

	run("pause the queue",
		chromedp.Navigate(root),
		chromedp.Click(chromedp.CSS(`tr[data-queue="default"] button.pause`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-queue="default"] .badge.paused`)),
	)
	held := e.submit(Work{Text: "held"})
	run("retry the failed job",
		chromedp.Navigate(fmt.Sprintf("%sjobs/%d", root, failed)),
		chromedp.Click(chromedp.CSS("#retry")),
		chromedp.WaitVisible(chromedp.CSS(`#state.pending`)),
	)
	run("the queues page shows the paused queue's pending jobs",
		chromedp.Navigate(root),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-queue="default"] a[href="jobs?queue=default&state=pending"]`)),
	)
	// The server was woken by both submits and has run its claims since:
	// the paused queue gave it nothing.
	for _, id := range []int64{held, failed} {
		if job, _ := e.client.Get(context.Background(), id); job.State != storage.StatePending {
			t.Errorf("job %d submitted or retried while its queue is paused is %s, want pending", id, job.State)
		}
	}
	run("resume the queue",
		chromedp.Click(chromedp.CSS(`tr[data-queue="default"] button.resume`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-queue="default"] .badge.active`)),
	)
	e.waitState(held, storage.StateCompleted)
	e.waitState(failed, storage.StateFailed)
}

// openSQLite opens a SQLite store in the test's directory.
func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "jobs.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
