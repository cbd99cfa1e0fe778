package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
)

// The directive that marks a job: //jobgen:job key=value ...
const (
	directiveTool = "jobgen"
	directiveName = "job"
	directive     = "//" + directiveTool + ":" + directiveName
)

// An arg is one marker value and the position of its value.
type arg[T any] struct {
	Set   bool
	Value T
	Pos   token.Pos
}

// A marker is a parsed //jobgen:job directive.
type marker struct {
	// Pos is the position of the directive's "//".
	Pos      token.Pos
	Kind     arg[string]
	Queue    arg[string]
	Priority arg[int]
	Attempts arg[int]
	Timeout  arg[time.Duration]
	Backoff  arg[time.Duration]
	Output   arg[string]
	Unique   arg[[]string]
	// UniqueFor is the unique window (see uniqueForKey).
	UniqueFor arg[time.Duration]
	Every     arg[time.Duration]
	Cron      arg[string]
	TZ        arg[string]
}

// A keyDef is one key of the marker schema.
type keyDef struct {
	Key string
	// Value names the kind of value; Want is what an error says was expected.
	Value, Want string
	Default     string
	Doc         string
	// Quoted: the value may be a Go string literal ("0 3 * * *"), which
	// is unquoted before set sees it. Other values are bare words.
	Quoted bool
	// set parses val into m; it reports false when val is not a valid value.
	set func(m *marker, val string, pos token.Pos) bool
}

// schema declares every marker key once. It drives parsing, validation and
// the -help text.
var schema = []keyDef{
	{
		Key: "kind", Value: "name", Default: "type name in snake_case",
		Want: "a name of " + storage.NameRule,
		Doc:  "stable stored name of the job kind; keep it when renaming the type",
		set:  setter(func(m *marker) *arg[string] { return &m.Kind }, parseName),
	},
	{
		Key: "queue", Value: "name", Default: `"default"`,
		Want: "a name of " + storage.NameRule,
		Doc:  "queue that jobs go to unless Submit says otherwise",
		set:  setter(func(m *marker) *arg[string] { return &m.Queue }, parseName),
	},
	{
		Key: "priority", Value: "integer", Default: "0", Want: "an integer",
		Doc: "default priority; a smaller number runs first",
		set: setter(func(m *marker) *arg[int] { return &m.Priority }, parseInt),
	},
	{
		Key: "attempts", Value: "positive integer", Default: "25", Want: "a positive integer",
		Doc: "how many times a job may run before it fails",
		set: setter(func(m *marker) *arg[int] { return &m.Attempts }, parsePositive),
	},
	{
		Key: "timeout", Value: "duration", Default: "none", Want: "a positive Go duration such as 30s or 2m",
		Doc: "deadline of each run's context",
		set: setter(func(m *marker) *arg[time.Duration] { return &m.Timeout }, parseDuration),
	},
	{
		Key: "backoff", Value: "duration", Default: "1s", Want: "a positive Go duration such as 500ms or 1s",
		Doc: "first retry delay; it doubles with every attempt, up to an hour",
		set: setter(func(m *marker) *arg[time.Duration] { return &m.Backoff }, parseDuration),
	},
	{
		Key: "output", Value: "type", Default: "none", Want: "a type name such as Result or pkg.Result",
		Doc: "type the handler returns, declared in the package or an imported one (pkg.Type)",
		set: setter(func(m *marker) *arg[string] { return &m.Output }, parseTypeName),
	},
	{
		Key: "unique", Value: "field list", Default: "none", Want: "comma-separated field names such as URL,Width",
		Doc: "fields whose values deduplicate active jobs of the kind",
		set: setter(func(m *marker) *arg[[]string] { return &m.Unique }, parseFieldList),
	},
	uniqueForKey,
	{
		Key: "every", Value: "duration", Default: "none", Want: "a Go duration of at least 1ms such as 15m",
		Doc: "run the job periodically at this interval (see Register)",
		set: setter(func(m *marker) *arg[time.Duration] { return &m.Every }, parseEvery),
	},
	{
		Key: "cron", Value: "quoted cron spec", Default: "none", Want: `a cron expression such as "0 3 * * *" or @daily`,
		Doc:    "run the job periodically at the times of a cron expression (see Register)",
		Quoted: true,
		set:    setter(func(m *marker) *arg[string] { return &m.Cron }, parseNonEmpty),
	},
	{
		Key: "tz", Value: "time zone", Default: "UTC", Want: "an IANA time zone such as Europe/Paris",
		Doc: "time zone the cron expression is read in",
		set: setter(func(m *marker) *arg[string] { return &m.TZ }, parseNonEmpty),
	},
}

// uniqueForKey is the marker key of a kind's unique window.
var uniqueForKey = keyDef{
	Key: "uniquefor", Value: "duration", Default: "none", Want: "a positive Go duration such as 1h or 10m",
	Doc: "a unique key also holds this long after a job with it was created, finished or not",
	set: setter(func(m *marker) *arg[time.Duration] { return &m.UniqueFor }, parseDuration),
}

func setter[T any](field func(*marker) *arg[T], parse func(string) (T, bool)) func(*marker, string, token.Pos) bool {
	return func(m *marker, val string, pos token.Pos) bool {
		v, ok := parse(val)
		if ok {
			*field(m) = arg[T]{Set: true, Value: v, Pos: pos}
		}
		return ok
	}
}

func parseName(s string) (string, bool) { return s, storage.ValidName(s) }

func parseInt(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func parsePositive(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

func parseDuration(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}

func parseEvery(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= time.Millisecond
}

func parseNonEmpty(s string) (string, bool) { return s, s != "" }

func parseTypeName(s string) (string, bool) {
	pkg, name, qualified := strings.Cut(s, ".")
	if qualified {
		return s, token.IsIdentifier(pkg) && token.IsIdentifier(name)
	}
	return s, token.IsIdentifier(s)
}

func parseFieldList(s string) ([]string, bool) {
	names := strings.Split(s, ",")
	for _, n := range names {
		if !token.IsIdentifier(n) {
			return nil, false
		}
	}
	return names, true
}

// isDirectiveLine reports whether a comment line is meant for jobgen: a
// //jobgen: directive of any name, or one written with spaces after the
// slashes, which Go does not treat as a directive (gofmt even adds the space
// when the name is not lower case).
func isDirectiveLine(text string) bool {
	if strings.HasPrefix(text, "//"+directiveTool+":") {
		return true
	}
	rest, ok := strings.CutPrefix(text, "//")
	if !ok || rest == strings.TrimLeftFunc(rest, unicode.IsSpace) {
		return false
	}
	after, ok := strings.CutPrefix(strings.TrimLeftFunc(rest, unicode.IsSpace), directiveTool+":")
	if !ok || after == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(after)
	return !unicode.IsSpace(r)
}

// parseMarker parses one comment line for which isDirectiveLine holds. It
// returns the marker, or nil and the problems found, each at the most
// precise position available.
func parseMarker(fset *token.FileSet, c *ast.Comment) (*marker, diagnostics) {
	var diags diagnostics
	if !strings.HasPrefix(c.Text, "//"+directiveTool+":") {
		diags.add(fset, c.Slash, "a directive has no space after //: write %s", directive)
		return nil, diags
	}
	d, ok := ast.ParseDirective(c.Slash, c.Text)
	if !ok || d.Tool != directiveTool || d.Name != directiveName {
		name, _, _ := strings.Cut(c.Text[len("//"+directiveTool+":"):], " ")
		if name == "" {
			diags.add(fset, c.Slash, "missing directive name: want %s", directive)
		} else if suggest(name, []string{directiveName}) != "" {
			diags.add(fset, c.Slash, "unknown directive //%s:%s (did you mean %s?)", directiveTool, name, directive)
		} else {
			diags.add(fset, c.Slash, "unknown directive //%s:%s (the only one is %s)", directiveTool, name, directive)
		}
		return nil, diags
	}
	m := &marker{Pos: c.Slash}
	seen := map[string]bool{}
	// ast.Directive.ParseArgs unquotes only whole quoted words and reports
	// errors without a position, so splitArgs splits the arguments itself.
	args, open := splitArgs(d.Args, d.ArgsPos)
	if open.IsValid() {
		diags.add(fset, open, "quoted value has no closing quote")
	}
	for i, a := range args {
		key, val, ok := strings.Cut(a.Arg, "=")
		if !ok || key == "" {
			diags.add(fset, a.Pos, "want key=value, got %q", a.Arg)
			continue
		}
		def := lookupKey(key)
		if def == nil {
			keys := make([]string, len(schema))
			for i, k := range schema {
				keys[i] = k.Key
			}
			if s := suggest(key, keys); s != "" {
				diags.add(fset, a.Pos, "unknown key %q (did you mean %q?)", key, s)
			} else {
				diags.add(fset, a.Pos, "unknown key %q (want one of %s)", key, strings.Join(keys, ", "))
			}
			continue
		}
		if seen[key] {
			diags.add(fset, a.Pos, "repeated key %q", key)
			continue
		}
		seen[key] = true
		valPos := a.Pos + token.Pos(len(key)+1)
		if def.Quoted && strings.HasPrefix(val, `"`) {
			uq, err := strconv.Unquote(val)
			if err != nil {
				if !open.IsValid() || i < len(args)-1 { // an open quote is reported once
					diags.add(fset, valPos, "%s: want a quoted Go string, got %s", key, val)
				}
				continue
			}
			val = uq
		}
		if !def.set(m, val, valPos) {
			diags.add(fset, valPos, "%s: want %s, got %q", key, def.Want, val)
		}
	}
	if len(diags) == 0 {
		diags = checkSchedule(fset, m)
	}
	if len(diags) > 0 {
		return nil, diags
	}
	return m, nil
}

func lookupKey(key string) *keyDef {
	for i := range schema {
		if schema[i].Key == key {
			return &schema[i]
		}
	}
	return nil
}

// splitArgs splits s, which starts at pos, into space-separated words. A
// double quote in a word starts a Go string literal, spaces included, that
// ends at the next double quote not escaped by a backslash. When a literal
// is left open, its word runs to the end and open is its quote's position.
func splitArgs(s string, pos token.Pos) (out []ast.DirectiveArg, open token.Pos) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		start := i
		for i < len(s) {
			if s[i] == '"' {
				quote := i
				if i = closingQuote(s, i+1); i < 0 {
					i, open = len(s), pos+token.Pos(quote)
					break
				}
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				break
			}
			i += size
		}
		out = append(out, ast.DirectiveArg{Arg: s[start:i], Pos: pos + token.Pos(start)})
	}
	return out, open
}

// closingQuote returns the index just past the double quote that closes a
// string literal whose body starts at s[i:], or -1 when none does.
func closingQuote(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
		case '"':
			return i + 1
		default:
			i++
		}
	}
	return -1
}

// checkSchedule checks the keys of a periodic job together: every or
// cron, not both; tz only with cron; a cron expression and time zone that
// the runtime accepts (github.com/robfig/cron/v3 parses the expression).
func checkSchedule(fset *token.FileSet, m *marker) diagnostics {
	var diags diagnostics
	switch {
	case m.Every.Set && m.Cron.Set:
		diags.add(fset, max(m.Every.Pos, m.Cron.Pos), "every and cron exclude each other: a job has one schedule")
	case m.TZ.Set && !m.Cron.Set:
		diags.add(fset, m.TZ.Pos, "tz: applies only to a cron schedule")
	case m.Cron.Set:
		if err := runtime.Cron(m.Cron.Value).Validate(m.TZ.Value); err != nil {
			pos := m.Cron.Pos
			if m.TZ.Set && errors.Is(err, runtime.ErrUnknownTimeZone) {
				pos = m.TZ.Pos
			}
			diags.add(fset, pos, "%v", err)
		}
	}
	return diags
}

// suggest returns the candidate nearest to s by edit distance, or "" when
// none is near enough to be a likely misspelling.
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); d < bestDist && d < len(c) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// printSchema writes the marker syntax and the table of keys.
func printSchema(w io.Writer) {
	fmt.Fprintf(w, "Mark a job with a directive as the last line of its struct's doc comment:\n\n")
	fmt.Fprintf(w, "\t// Resize scales one image.\n\t//\n\t%s queue=media attempts=5 timeout=2m output=ResizeResult unique=URL,Width\n\ttype Resize struct { ... }\n\n", directive)
	fmt.Fprintf(w, "Keys (all optional):\n\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  KEY\tVALUE\tDEFAULT\tMEANING\n")
	for _, k := range schema {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", k.Key, k.Value, k.Default, k.Doc)
	}
	tw.Flush()
}
