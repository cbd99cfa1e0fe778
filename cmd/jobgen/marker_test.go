package main

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// parseLine parses text as a comment at the start of a one-line file.
func parseLine(text string) (*token.File, *marker, diagnostics) {
	fset := token.NewFileSet()
	f := fset.AddFile("jobs.go", -1, len(text)+1)
	m, diags := parseMarker(fset, &ast.Comment{Slash: f.Pos(0), Text: text})
	return f, m, diags
}

func TestParseMarker(t *testing.T) {
	t.Parallel()
	_, m, diags := parseLine("//jobgen:job kind=image.resize queue=media priority=-2 attempts=5 timeout=2m backoff=1500ms output=pkg.Result unique=URL,Width")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	got := []any{m.Kind.Value, m.Queue.Value, m.Priority.Value, m.Attempts.Value, m.Timeout.Value, m.Backoff.Value, m.Output.Value, m.Unique.Value}
	want := []any{"image.resize", "media", -2, 5, 2 * time.Minute, 1500 * time.Millisecond, "pkg.Result", []string{"URL", "Width"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if col := m.Queue.Pos - m.Pos + 1; col != 38 {
		t.Errorf("queue value at column %d, want 38", col)
	}

	_, m, diags = parseLine("//jobgen:job")
	if len(diags) > 0 || m == nil || m.Kind.Set || m.Queue.Set {
		t.Errorf("bare directive: %v %+v", diags, m)
	}
}

func TestParseMarkerSchedule(t *testing.T) {
	t.Parallel()
	_, m, diags := parseLine(`//jobgen:job cron="0 3 * * *" tz=Europe/Paris queue=q`)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if m.Cron.Value != "0 3 * * *" || m.TZ.Value != "Europe/Paris" || m.Queue.Value != "q" {
		t.Errorf("cron %q, tz %q, queue %q", m.Cron.Value, m.TZ.Value, m.Queue.Value)
	}
	if col := m.Cron.Pos - m.Pos + 1; col != 19 {
		t.Errorf("cron value at column %d, want 19 (its quote)", col)
	}
	if col := m.TZ.Pos - m.Pos + 1; col != 34 {
		t.Errorf("tz value at column %d, want 34", col)
	}
	_, m, diags = parseLine(`//jobgen:job every=90s cron2=x`)
	if len(diags) != 1 || m != nil {
		t.Fatalf("unknown key after every: %v", diags)
	}
	_, m, diags = parseLine(`//jobgen:job every=90s`)
	if len(diags) > 0 || m.Every.Value != 90*time.Second {
		t.Errorf("every: %v %v", diags, m)
	}
	_, m, diags = parseLine(`//jobgen:job cron="@every\t1h"`)
	if len(diags) != 1 || !strings.Contains(diags[0].msg, "Every(d)") {
		t.Errorf("@every in cron: %v", diags)
	}
}

func TestParseMarkerErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want string // message:column
	}{
		{"//jobgen:job atempts=3", `unknown key "atempts" (did you mean "attempts"?):14`},
		{"//jobgen:job queue=a queue=b", `repeated key "queue":22`},
		{"//jobgen:job attempts=-1", `attempts: want a positive integer, got "-1":23`},
		{"//jobgen:job timeout=1", `timeout: want a positive Go duration such as 30s or 2m, got "1":22`},
		{"//jobgen:job queue", `want key=value, got "queue":14`},
		{"//jobgen:job\tqueue=a\u00a0junk", `want key=value, got "junk":23`},
		{"//jobgen:jbo", `unknown directive //jobgen:jbo (did you mean //jobgen:job?):1`},
		{"// jobgen:job", `a directive has no space after //: write //jobgen:job:1`},
		{"//jobgen: job", `missing directive name: want //jobgen:job:1`},
		{"//jobgen:job unique=A,", `unique: want comma-separated field names such as URL,Width, got "A,":21`},
		{`//jobgen:job cron="61 * * * *"`, `cron "61 * * * *": end of range (61) above maximum (59): 61:19`},
		{`//jobgen:job cron=@daily tz=Nowhere/City`, `time zone "Nowhere/City": unknown time zone:29`},
		{`//jobgen:job cron="0 3 * * *`, `quoted value has no closing quote:19`},
		{`//jobgen:job cron="\x"`, `cron: want a quoted Go string, got "\x":19`},
		{`//jobgen:job queue="q"`, `queue: want a name of 1-64 lower-case letters, digits, '_', '-' or '.', starting with a letter or digit, got "\"q\"":20`},
		{`//jobgen:job every=1h cron=@daily`, `every and cron exclude each other: a job has one schedule:28`},
		{`//jobgen:job tz=UTC`, `tz: applies only to a cron schedule:17`},
		{`//jobgen:job every=0s`, `every: want a Go duration of at least 1ms such as 15m, got "0s":20`},
	} {
		f, _, diags := parseLine(tc.text)
		if len(diags) != 1 {
			t.Errorf("%q: %d diagnostics %v, want 1", tc.text, len(diags), diags)
			continue
		}
		d := diags[0]
		if got := d.msg + ":" + strconv.Itoa(d.col); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.text, got, tc.want)
		}
		if d.file != f.Name() || d.line != 1 {
			t.Errorf("%q: at %s:%d", tc.text, d.file, d.line)
		}
	}
}

func TestIsDirectiveLine(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]bool{
		"//jobgen:job":             true,
		"//jobgen:anything":        true,
		"// jobgen:job":            true,
		"//  jobgen:Job":           true,
		"// jobgen: the generator": false,
		"// Run jobgen:job later":  false,
		"//go:generate jobgen":     false,
		"/* jobgen:job */":         false,
	} {
		if got := isDirectiveLine(text); got != want {
			t.Errorf("isDirectiveLine(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"SendEmail":   "send_email",
		"Resize":      "resize",
		"HTTPRequest": "http_request",
		"ResizeV2":    "resize_v2",
		"Image2PDF":   "image2_pdf",
		"A":           "a",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	keys := []string{"kind", "queue", "priority", "attempts", "timeout", "backoff", "output", "unique"}
	for in, want := range map[string]string{
		"atempts": "attempts", "que": "queue", "Timeout": "timeout", "outptu": "output",
		"colour": "", "x": "",
	} {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseMarker checks that no comment makes the parser panic and that
// every problem it reports lies on the comment.
func FuzzParseMarker(f *testing.F) {
	for _, seed := range []string{
		"//jobgen:job",
		"//jobgen:job queue=email attempts=5 timeout=30s",
		"//jobgen:job kind=a.b-c_d priority=-3 backoff=1ms output=p.T unique=A,B",
		"//jobgen:job atempts=5 queue queue=x =y",
		"//jobgen:jbo",
		"// jobgen:job",
		"//jobgen:job unique=,, output=a.b.c timeout=\"1s\"",
		"//jobgen:job \xff=\u00a0\u2028",
		`//jobgen:job cron="0 3 * * *" tz=Europe/Paris every=1s`,
		`//jobgen:job cron="a\"b c" x="y z`,
		`//jobgen:job cron="\\" tz=../../etc cron=@hourly`,
		`//jobgen:job cron="0 0 30 2 *"`,
		`//jobgen:job every=1ms "cron"="x"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.ContainsAny(text, "\n\r") || !isDirectiveLine(text) {
			return
		}
		file, m, diags := parseLine(text)
		if (m == nil) == (len(diags) == 0) {
			t.Fatalf("marker %v with %d diagnostics", m, len(diags))
		}
		for _, d := range diags {
			if d.file != file.Name() || d.line != 1 || d.col < 1 || d.col > len(text)+1 {
				t.Errorf("diagnostic %q at %s:%d:%d, outside the comment", d.msg, d.file, d.line, d.col)
			}
		}
		// A quoted value's position is its opening quote.
		if m != nil && m.Cron.Set {
			if rest := text[m.Cron.Pos-m.Pos:]; !strings.HasPrefix(rest, `"`) && !strings.HasPrefix(rest, m.Cron.Value) {
				t.Errorf("cron value %q at %q", m.Cron.Value, rest)
			}
		}
	})
}
