package dashboard

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// TestPages renders the three pages of a completed, a failed and a pending
// job, with a job whose arguments carry markup.
func TestPages(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	done := e.submit(Work{Text: `<script>alert("x")</script>`})
	failed := e.submit(Work{Text: "bad", Fail: true})
	e.waitState(done, storage.StateCompleted)
	e.waitState(failed, storage.StateFailed)
	later, err := idleKind.Submit(context.Background(), e.client, Work{Text: "later"}, &runtime.SubmitOpts{UniqueKey: "k-1", Metadata: map[string]string{"trace": "<i>t-1</i>"}})
	if err != nil {
		t.Fatal(err)
	}
	_, body := e.get(fmt.Sprintf("jobs/%d", later.ID))
	if want := `<dt>trace</dt><dd><code>&lt;i&gt;t-1&lt;/i&gt;</code></dd>`; !strings.Contains(body, want) {
		t.Errorf("pending job page lacks the metadata %s:\n%s", want, body)
	}

	status, body := e.get("")
	if status != http.StatusOK {
		t.Fatalf("queues: status %d\n%s", status, body)
	}
	for _, want := range []string{`data-queue="default"`, `data-queue="parked"`, `action="queues/pause"`, `data-live="queues/events"`, `<a href="schedules">Schedules</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("queues page lacks %s:\n%s", want, body)
		}
	}

	status, body = e.get("jobs")
	if status != http.StatusOK || strings.Count(body, "<tr data-job=") != 3 {
		t.Errorf("jobs: status %d, want 3 jobs:\n%s", status, body)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"state=failed", 1},
		{"state=completed&queue=default", 1},
		{"kind=idle", 1},
		{"kind=idle&key=k-1", 1},
		{"kind=idle&key=k-1&state=pending", 1},
		{"kind=idle&key=k", 0}, // exact match only
		{"kind=work&key=k-1", 0},
		{"queue=nope", 0},
	} {
		_, body := e.get("jobs?" + tc.query)
		if got := strings.Count(body, "<tr data-job="); got != tc.want {
			t.Errorf("jobs?%s: %d jobs, want %d", tc.query, got, tc.want)
		}
	}
	for _, q := range []string{"state=stuck", "cursor=garbage", "key=k-1", "kind=idle&key=k-1&state=completed"} {
		if status, _ := e.get("jobs?" + q); status != http.StatusBadRequest {
			t.Errorf("jobs?%s: status %d, want 400", q, status)
		}
	}

	status, body = e.get(fmt.Sprintf("jobs/%d", done))
	if status != http.StatusOK {
		t.Fatalf("job: status %d\n%s", status, body)
	}
	if strings.Contains(body, `<script>alert`) {
		t.Errorf("job page renders the input's markup as markup:\n%s", body)
	}
	for _, want := range []string{`&lt;script&gt;alert(\&#34;x\&#34;)&lt;/script&gt;`, `id="output"`, `id="delete"`} {
		if !strings.Contains(body, want) {
			t.Errorf("job page lacks %s:\n%s", want, body)
		}
	}
	_, body = e.get(fmt.Sprintf("jobs/%d", failed))
	for _, want := range []string{"boom: bad", `id="retry"`, `id="error-code"`} {
		if !strings.Contains(body, want) {
			t.Errorf("failed job page lacks %s:\n%s", want, body)
		}
	}
	for path, want := range map[string]int{"jobs/0": 400, "jobs/x": 400, "jobs/999": 404, "nope": 404, "static/dashboard.js": 200, "static/dashboard.css": 200} {
		if status, _ := e.get(path); status != want {
			t.Errorf("GET %s: status %d, want %d", path, status, want)
		}
	}
}

// TestSchedulesPage lists the schedules with their fields and the job a
// tick inserted, shows markup in a schedule's arguments as text, and
// removes a schedule through its form's request.
func TestSchedulesPage(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	ctx := context.Background()
	if status, body := e.get("schedules"); status != http.StatusOK || !strings.Contains(body, "No schedule is stored.") {
		t.Errorf("schedules with none: status %d:\n%s", status, body)
	}
	markup := Work{Text: `<script>alert("s")</script>`}
	nightly := &runtime.ScheduleOpts{TimeZone: "Europe/Paris", Queue: "reports", Overlap: runtime.OverlapQueue, Missed: runtime.SkipMissed}
	if _, err := idleKind.AddSchedule(ctx, e.client, "nightly", runtime.Cron("30 2 * * *"), markup, nightly); err != nil {
		t.Fatal(err)
	}
	// The ticker's first tick inserts a job into the parked queue, where it
	// stays pending; its later ticks insert nothing (OverlapSkip).
	if _, err := idleKind.AddSchedule(ctx, e.client, "ticker", runtime.Every(50*time.Millisecond), Work{Text: "tick"}, nil); err != nil {
		t.Fatal(err)
	}
	last := e.waitLastJob("ticker")

	status, body := e.get("schedules")
	if status != http.StatusOK {
		t.Fatalf("schedules: status %d\n%s", status, body)
	}
	if strings.Contains(body, "<script>alert") {
		t.Errorf("schedules page renders the arguments' markup as markup:\n%s", body)
	}
	scs, err := e.client.ListSchedules(ctx)
	if err != nil || len(scs) != 2 {
		t.Fatalf("ListSchedules = %v, %v", scs, err)
	}
	row := func(name string) string {
		m := regexp.MustCompile(`(?s)<tr data-schedule="` + name + `">.*?</tr>`).FindString(body)
		if m == "" {
			t.Fatalf("schedules page lacks %s:\n%s", name, body)
		}
		return m
	}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"nightly", []string{
			`<td><a href="jobs?kind=idle">idle</a></td>`,
			`<td><a href="jobs?queue=reports">reports</a></td>`,
			`<code>30 2 * * *</code> <small>in Europe/Paris</small>`,
			`<td>queue</td>`, `<td>skip</td>`,
			`<td class="next">` + formatTime(scs[0].NextAt) + ` <small>in `,
			`<td class="num">–</td>`,
			`>{&#34;text&#34;:&#34;&lt;script&gt;alert(\&#34;s\&#34;)&lt;/script&gt;&#34;}</code>`,
			`action="schedules/nightly/remove"`,
		}},
		{"ticker", []string{
			`<td><a href="jobs?queue=parked">parked</a></td>`,
			`<code>@every 50ms</code></td>`,
			`<td>skip</td>`, `<td>catch_up</td>`,
			fmt.Sprintf(`<a href="jobs/%d">%d</a>`, last, last),
			`>{&#34;text&#34;:&#34;tick&#34;}</code>`,
		}},
	} {
		r := row(tc.name)
		for _, want := range tc.want {
			if !strings.Contains(r, want) {
				t.Errorf("%s's row lacks %s:\n%s", tc.name, want, r)
			}
		}
	}
	if !strings.Contains(body, `<a href="schedules" aria-current="page">`) {
		t.Errorf("the menu does not mark the schedules page:\n%s", body)
	}

	resp, _ := e.post("schedules/ticker/remove", "", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "../../schedules?done=remove" {
		t.Errorf("remove: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := e.get("schedules?done=remove"); !strings.Contains(body, "Schedule removed") || strings.Contains(body, `data-schedule="ticker"`) || !strings.Contains(body, `data-schedule="nightly"`) {
		t.Errorf("schedules page after the removal:\n%s", body)
	}
	for path, want := range map[string]int{"schedules/ticker/remove": 404, "schedules/Bad/remove": 400} {
		if resp, _ := e.post(path, "", nil); resp.StatusCode != want {
			t.Errorf("POST %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestPagination walks the keyset pages of the jobs list.
func TestPagination(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	for i := range 120 {
		if _, err := idleKind.Submit(context.Background(), e.client, Work{Text: fmt.Sprint(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	next := regexp.MustCompile(`id="next" href="jobs\?([^"]+)"`)
	row := regexp.MustCompile(`<tr data-job="(\d+)">`)
	seen := make(map[string]bool)
	path, pages := "jobs?queue=parked", 0
	for path != "" {
		_, body := e.get(path)
		pages++
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("job %s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		path = ""
		if m := next.FindStringSubmatch(body); m != nil {
			q, err := url.ParseQuery(strings.ReplaceAll(m[1], "&amp;", "&"))
			if err != nil || q.Get("queue") != "parked" {
				t.Fatalf("next page query %q keeps no filter (%v)", m[1], err)
			}
			path = "jobs?" + q.Encode()
		}
	}
	if pages != 3 || len(seen) != 120 {
		t.Errorf("%d pages, %d jobs; want 3 pages of 120 jobs", pages, len(seen))
	}
}

// TestCrossOrigin: a cross-site POST is refused with 403 and changes
// nothing; the same POST from the dashboard's own origin works.
func TestCrossOrigin(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	id := e.submit(Work{Text: "x", Fail: true})
	e.waitState(id, storage.StateFailed)
	e.addNightly()
	retry := fmt.Sprintf("jobs/%d/retry", id)
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "http://evil.example"},
	} {
		resp, _ := e.post(retry, "", h)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("retry with %v: status %d, want 403", h, resp.StatusCode)
		}
		resp, _ = e.post("queues/pause", "queue=default", h)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("pause with %v: status %d, want 403", h, resp.StatusCode)
		}
		resp, _ = e.post("schedules/nightly/remove", "", h)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("schedule removal with %v: status %d, want 403", h, resp.StatusCode)
		}
	}
	if job, _ := e.client.Get(context.Background(), id); job.State != storage.StateFailed {
		t.Errorf("job is %s after refused retries, want failed", job.State)
	}
	if qs, _ := e.client.Queues(context.Background()); len(qs) != 1 || qs[0].Paused {
		t.Errorf("queues after refused pauses: %+v", qs)
	}
	if scs, _ := e.client.ListSchedules(context.Background()); len(scs) != 1 {
		t.Errorf("schedules after refused removals: %v", scs)
	}
	resp, _ := e.post(retry, "", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.ts.URL})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("../../jobs/%d?done=retry", id) {
		t.Errorf("same-origin retry: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	e.waitState(id, storage.StateFailed) // it runs again and fails again
	if job, _ := e.client.Get(context.Background(), id); job.Attempt != 1 {
		t.Errorf("retried job at attempt %d, want 1 (a fresh budget, used once)", job.Attempt)
	}
}

// TestReadOnly: a read-only dashboard shows no action and refuses every
// one with 403, changing nothing.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	e := setup(t, &Options{ReadOnly: true})
	failed := e.submit(Work{Fail: true})
	e.waitState(failed, storage.StateFailed)
	pending, err := idleKind.Submit(context.Background(), e.client, Work{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.addNightly()
	for _, path := range []string{"", "jobs", fmt.Sprintf("jobs/%d", failed), fmt.Sprintf("jobs/%d", pending.ID), "schedules"} {
		status, body := e.get(path)
		if status != http.StatusOK || strings.Contains(body, `method="post"`) {
			t.Errorf("GET /%s: status %d, or a form or button shown:\n%s", path, status, body)
		}
		if path == "schedules" && !strings.Contains(body, `<tr data-schedule="nightly">`) {
			t.Errorf("read-only schedules page lacks the schedule:\n%s", body)
		}
	}
	for _, p := range []struct{ path, form string }{
		{fmt.Sprintf("jobs/%d/retry", failed), ""},
		{fmt.Sprintf("jobs/%d/delete", failed), ""},
		{fmt.Sprintf("jobs/%d/abort", pending.ID), ""},
		{fmt.Sprintf("jobs/%d/delete", pending.ID), "pending=1"},
		{"queues/pause", "queue=parked"},
		{"schedules/nightly/remove", ""},
	} {
		if resp, _ := e.post(p.path, p.form, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s: status %d, want 403", p.path, resp.StatusCode)
		}
	}
	ctx := context.Background()
	if job, _ := e.client.Get(ctx, failed); job.State != storage.StateFailed {
		t.Errorf("failed job is %s", job.State)
	}
	if job, _ := e.client.Get(ctx, pending.ID); job.State != storage.StatePending {
		t.Errorf("pending job is %s", job.State)
	}
	if qs, _ := e.client.Queues(ctx); len(qs) != 2 || qs[1].Paused {
		t.Errorf("queues: %+v", qs)
	}
	if scs, _ := e.client.ListSchedules(ctx); len(scs) != 1 {
		t.Errorf("schedules: %v", scs)
	}
}

// TestActions aborts, retries, deletes, pauses and resumes through the
// forms' requests.
func TestActions(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	ctx := context.Background()
	running := e.submit(Work{Block: true})
	e.waitState(running, storage.StateRunning)
	if resp, body := e.post(fmt.Sprintf("jobs/%d/delete", running), "", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("delete running: status %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := e.post(fmt.Sprintf("jobs/%d/abort", running), "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("abort: status %d", resp.StatusCode)
	}
	e.waitState(running, storage.StateAborted)
	if resp, _ := e.post(fmt.Sprintf("jobs/%d/abort", running), "", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("abort of aborted: status %d, want 409", resp.StatusCode)
	}
	pending, err := idleKind.Submit(ctx, e.client, Work{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.post(fmt.Sprintf("jobs/%d/delete", pending.ID), "", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("delete pending without pending=1: status %d, want 409", resp.StatusCode)
	}
	if resp, _ := e.post(fmt.Sprintf("jobs/%d/delete", pending.ID), "pending=1", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "../../jobs?done=delete" {
		t.Errorf("delete pending: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := e.client.Get(ctx, pending.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("deleted job: %v", err)
	}
	if resp, _ := e.post("queues/pause", "queue=default", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "../?done=pause" {
		t.Errorf("pause: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := e.get("?done=pause"); !strings.Contains(body, "Queue paused") || !strings.Contains(body, `action="queues/resume"`) {
		t.Errorf("queues page after pause:\n%s", body)
	}
	if resp, _ := e.post("queues/resume", "queue=default", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("resume: status %d", resp.StatusCode)
	}
	if resp, _ := e.post("queues/pause", "queue=Bad%20Name", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("pause of a bad name: status %d, want 400", resp.StatusCode)
	}
}

// TestMountedUnderPrefix: under http.StripPrefix every link, form, asset
// and stream URL is relative and resolves inside the mount point.
func TestMountedUnderPrefix(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	id := e.submit(Work{Block: true})
	e.waitState(id, storage.StateRunning)
	defer close(e.steps)
	e.addNightly()
	for _, prefix := range []string{"/admin/jobs", "/admin/jobs/"} {
		mux := http.NewServeMux()
		mux.Handle("/admin/jobs/", http.StripPrefix(prefix, e.dash))
		ts := httptest.NewServer(mux)
		attr := regexp.MustCompile(`(?:href|action|src|data-live)="([^"]*)"`)
		for _, page := range []string{"/admin/jobs/", "/admin/jobs/jobs", fmt.Sprintf("/admin/jobs/jobs/%d", id), "/admin/jobs/schedules"} {
			resp, err := http.Get(ts.URL + page)
			if err != nil {
				t.Fatal(err)
			}
			var body strings.Builder
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				body.WriteString(sc.Text() + "\n")
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s%s: status %d", prefix, page, resp.StatusCode)
			}
			baseHref := regexp.MustCompile(`<base href="([^"]*)">`).FindStringSubmatch(body.String())
			if baseHref == nil {
				t.Fatalf("%s: no base", page)
			}
			pageURL, _ := url.Parse(ts.URL + page)
			root := pageURL.ResolveReference(&url.URL{Path: baseHref[1]})
			if root.Path != "/admin/jobs/" {
				t.Errorf("%s: base resolves to %s", page, root.Path)
			}
			links := strings.Replace(body.String(), baseHref[0], "", 1)
			for _, m := range attr.FindAllStringSubmatch(links, -1) {
				ref := strings.ReplaceAll(m[1], "&amp;", "&")
				if strings.HasPrefix(ref, "/") || strings.Contains(ref, "://") {
					t.Errorf("%s: absolute URL %q", page, ref)
					continue
				}
				u, _ := url.Parse(ref)
				if got := root.ResolveReference(u); !strings.HasPrefix(got.Path, "/admin/jobs/") {
					t.Errorf("%s: %q resolves outside the mount point, to %s", page, ref, got.Path)
				}
			}
		}
		ts.Close()
	}
}

// TestJobEvents reads a running job's event stream: its progress reports,
// then a state event once it completes.
func TestJobEvents(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	id := e.submit(Work{Block: true})
	job := e.waitState(id, storage.StateRunning)
	ev := e.events(fmt.Sprintf("jobs/%d/events?seen=%s", id, stamp(job)))
	ev.want("hello", "")
	e.steps <- 40
	ev.want("progress", `{"percent":40,"message":"step"}`)
	e.steps <- 75
	ev.want("progress", `{"percent":75,"message":"step"}`)
	close(e.steps)
	ev.want("state", "completed.1")

	// A page that saw an older state is told at once.
	ev = e.events(fmt.Sprintf("jobs/%d/events?seen=running.1", id))
	ev.want("hello", "")
	ev.want("state", "completed.1")
}

// TestQueuesEvents reads the queues page's stream: the table after a
// submit, and after a pause.
func TestQueuesEvents(t *testing.T) {
	t.Parallel()
	e := setup(t, &Options{RefreshInterval: time.Hour})
	ev := e.events("queues/events")
	ev.want("hello", "")
	if _, err := idleKind.Submit(context.Background(), e.client, Work{}, nil); err != nil {
		t.Fatal(err)
	}
	if data := ev.next("queues"); !strings.Contains(data, `data-queue="parked"`) {
		t.Errorf("table after a submit:\n%s", data)
	}
}

// TestQueuesRefresh: with no event, an open queues page reads storage
// every RefreshInterval, and sees a pause made by another process.
func TestQueuesRefresh(t *testing.T) {
	t.Parallel()
	store := memory.New()
	defer store.Close()
	e := setupOn(t, store, &Options{RefreshInterval: 50 * time.Millisecond})
	other, err := runtime.NewClient(store, runtime.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ev := e.events("queues/events")
	ev.want("hello", "")
	if err := other.PauseQueue(context.Background(), "parked"); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(ev.next("queues"), `<span class="badge paused"`) {
	}
}

// eventReader reads one event stream.
type eventReader struct {
	t  *testing.T
	sc *bufio.Scanner
}

// events opens the stream at path; the test's end closes it.
func (e *env) events(path string) *eventReader {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.ts.URL+"/"+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { cancel(); resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		e.t.Fatalf("GET %s: status %d, type %q", path, resp.StatusCode, ct)
	}
	return &eventReader{t: e.t, sc: bufio.NewScanner(resp.Body)}
}

// read returns the next event's name and data.
func (r *eventReader) read() (string, string) {
	r.t.Helper()
	var name string
	var data []string
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "" && name != "":
			return name, strings.Join(data, "\n")
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[len("data: "):])
		}
	}
	r.t.Fatalf("stream ended: %v", r.sc.Err())
	return "", ""
}

// next returns the data of the next event, which must be named name.
func (r *eventReader) next(name string) string {
	r.t.Helper()
	got, data := r.read()
	if got != name {
		r.t.Fatalf("event %q (%s), want %q", got, data, name)
	}
	return data
}

// want reads the next event and checks its name and data.
func (r *eventReader) want(name, data string) {
	r.t.Helper()
	if got := r.next(name); got != data {
		r.t.Fatalf("event %s: data %q, want %q", name, got, data)
	}
}

// failingStore fails every query with an error that names a password.
type failingStore struct{ storage.Storage }

var errSecret = errors.New(`connect to "postgres://admin:s3cret@db.internal/jobs": refused`)

func (failingStore) JobQuery(context.Context, *storage.JobQueryParams) (*storage.JobQueryResult, error) {
	return nil, errSecret
}

func (failingStore) ScheduleList(context.Context, *storage.ScheduleListParams) ([]*storage.Schedule, error) {
	return nil, errSecret
}

func (failingStore) JobGet(context.Context, *storage.JobGetParams) (*storage.Job, error) {
	return nil, errSecret
}

// TestStorageErrorHidden: a storage error's text, which may carry a DSN,
// never reaches the page.
func TestStorageErrorHidden(t *testing.T) {
	t.Parallel()
	store := memory.New()
	defer store.Close()
	client, err := runtime.NewClient(failingStore{store}, runtime.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var logged strings.Builder
	dash, err := New(client, &Options{Logger: newTestLogger(&logged)})
	if err != nil {
		t.Fatal(err)
	}
	defer dash.Close()
	for _, path := range []string{"/jobs", "/jobs/1", "/schedules"} {
		rec := httptest.NewRecorder()
		dash.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "s3cret") || !strings.Contains(rec.Body.String(), "internal error") {
			t.Errorf("GET %s: status %d:\n%s", path, rec.Code, rec.Body.String())
		}
	}
	if !strings.Contains(logged.String(), "s3cret") {
		t.Errorf("the error was not logged for the operator: %q", logged.String())
	}
}

// TestThroughput counts completions and failures per whole minute.
func TestThroughput(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 12, 0, 30, 0, time.UTC)
	tp := newThroughput(start)
	if r := tp.rate("q", start.Add(time.Minute)); r.Known {
		t.Errorf("rate before any finish: %+v", r)
	}
	at := func(d time.Duration, k runtime.EventKind) {
		tp.observe(runtime.Event{Kind: k, Queue: "q", At: start.Add(d)})
	}
	at(40*time.Second, runtime.EventCompleted) // 12:01:10
	at(50*time.Second, runtime.EventCompleted)
	at(55*time.Second, runtime.EventFailed)
	at(60*time.Second, runtime.EventStarted)    // not counted
	at(100*time.Second, runtime.EventCompleted) // 12:02:10
	at(160*time.Second, runtime.EventCompleted) // 12:03:10, the current minute
	// The window runs from the start (12:00:30) to 12:03:15.
	r := tp.rate("q", start.Add(165*time.Second))
	if !r.Known || fmt.Sprint(r.Completed) != "[0 2 1 1]" || fmt.Sprint(r.Failed) != "[0 1 0 0]" ||
		r.Done != 4 || r.Errors != 1 || r.Span != 165*time.Second || r.PerMinute != 4/2.75 {
		t.Errorf("rate: %+v", r)
	}
	// Ten minutes on, the window has moved past every count.
	r = tp.rate("q", start.Add(10*time.Minute))
	if len(r.Completed) != rateMinutes+1 || r.Done != 0 || r.Span != 5*time.Minute+30*time.Second {
		t.Errorf("rate later: %+v", r)
	}
	if r := tp.rate("other", start.Add(165*time.Second)); !r.Known || r.Done != 0 {
		t.Errorf("rate of a quiet queue: %+v", r)
	}
}
