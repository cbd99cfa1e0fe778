package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode/utf8"
)

// pageNames are the pages, each a template file drawn inside layout.html.
var pageNames = []string{"queues", "jobs", "job", "schedules", "error"}

// parsePages parses every page with the layout and the shared fragments.
func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: templates: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}

// funcs are the templates' helpers. Every one returns plain text, which
// the template escapes.
var funcs = template.FuncMap{
	"time":     formatTime,
	"age":      formatAge,
	"duration": formatDuration,
	"pretty":   prettyJSON,
	"oneLine":  oneLineJSON,
	"firstLine": func(s string) string {
		line, _, _ := strings.Cut(s, "\n")
		return truncate(line, 120)
	},
	"rate": func(f float64) string { return fmt.Sprintf("%.1f", f) },
	// bar is the CSS class of a sparkline bar of v in a series peaking at top.
	"bar": func(v int, series []int) string {
		top := 0
		for _, x := range series {
			top = max(top, x)
		}
		if v == 0 || top == 0 {
			return "h0"
		}
		return fmt.Sprintf("h%d", max(1, v*10/top))
	},
}

// formatTime writes t in UTC, to the second; "–" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// formatAge writes how long ago (or in how long) t is from now, roughly.
func formatAge(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + formatDuration(-d)
	}
	return formatDuration(d) + " ago"
}

// formatDuration writes d rounded to two units: "3m12s", "2h5m", "4d3h".
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", d/time.Minute, d%time.Minute/time.Second)
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	}
	d = d.Round(time.Hour)
	return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
}

// prettyJSON indents an encoded value, with the escapes encoding/json
// writes for <, > and & turned back into the characters (the page escapes
// them); what is not JSON is shown as text (made valid UTF-8).
func prettyJSON(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return unescapeHTML(out.String())
}

// oneLineJSON writes an encoded value on one line, cut to 100 runes, with
// prettyJSON's treatment of escapes and of what is not JSON.
func oneLineJSON(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return truncate(strings.ToValidUTF8(string(b), "\uFFFD"), 100)
	}
	return truncate(unescapeHTML(out.String()), 100)
}

// htmlEscapes are the characters encoding/json escapes for HTML's sake.
var htmlEscapes = map[string]byte{"003c": '<', "003e": '>', "0026": '&'}

// unescapeHTML replaces the JSON escapes \u003c, \u003e and \u0026 in
// valid JSON by <, > and &, leaving escaped backslashes alone.
func unescapeHTML(s string) string {
	if !strings.Contains(s, `\u00`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == 'u' && i+6 <= len(s) {
			if c := htmlEscapes[s[i+2:i+6]]; c != 0 {
				b.WriteByte(c)
				i += 5
				continue
			}
		}
		// Any other escape (\\, \", \n, …) is copied whole, so the second
		// backslash of an escaped one never starts an escape.
		b.WriteString(s[i : i+2])
		i++
	}
	return b.String()
}

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
