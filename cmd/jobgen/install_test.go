package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The files of the README's new module ("Install"), as TestInstall writes
// them; TestDocSnippetsAreExamples finds them in the README.
const (
	// installGenerate is split so that go generate in this tree does not
	// take it for a directive of this file.
	installGenerate = "//go:" + "generate go tool jobgen"

	installJobs = "package main\n\n" + installGenerate + "\n" + `
// Greet asks for a greeting.
//
//jobgen:job output=Greeting
type Greet struct {
	Name string
}

// Greeting is the result of a Greet.
type Greeting struct {
	Text string
}
`
	installMain = `package main

import (
	"context"
	"fmt"
	"log"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// greeter handles every job of the package: it implements the generated
// Handlers interface.
type greeter struct{}

func (greeter) HandleGreet(ctx context.Context, job *runtime.Job[Greet]) (Greeting, error) {
	return Greeting{Text: "hello, " + job.Args.Name}, nil
}

func main() {
	ctx := context.Background()
	store := memory.New()
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := Register(srv, greeter{}); err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer srv.Stop(ctx)

	jobs := NewClients(srv.Client())
	h, err := jobs.Greet.Submit(ctx, Greet{Name: "gopher"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := h.Wait(ctx) // res is a Greeting
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text)
}
`
	// installNoCgo is a second program of the module, not in the README:
	// it links the memory and PostgreSQL backends and the example, and
	// prints what sqlite.Open says in a build without cgo.
	installNoCgo = `package main

import (
	"fmt"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime/storage/memory"
	"github.com/jobgen/jobgen/runtime/storage/postgres"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

var _ = []any{memory.New, postgres.Connect, example.Register}

func main() {
	_, err := sqlite.Open("jobs.db", nil)
	fmt.Println(err)
}
`
)

// noCgoMessage is what sqlite.Open returns in a build with CGO_ENABLED=0.
const noCgoMessage = "sqlite: this binary was built with CGO_ENABLED=0; the SQLite backend needs cgo and a C compiler " +
	"(use memory or postgres, or build with CGO_ENABLED=1)"

// TestInstall follows the README's "Install" in a new module outside the
// tree, with the real go command: go get -tool, go generate, go mod tidy
// and go run of a program that runs one job on the memory backend. The
// module requires this checkout through a replace directive. It then builds
// the module with CGO_ENABLED=0, and checks sqlite.Open's error there.
func TestInstall(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	dir := t.TempDir()
	gocmd := goCommand(t, dir)

	gocmd(nil, "mod", "init", "example.com/hello")
	gocmd(nil, "mod", "edit", "-require=github.com/jobgen/jobgen@v0.0.0", "-replace=github.com/jobgen/jobgen="+root)
	writeFile(t, filepath.Join(dir, "jobs.go"), installJobs)
	writeFile(t, filepath.Join(dir, "main.go"), installMain)
	writeFile(t, filepath.Join(dir, "nocgo", "main.go"), installNoCgo)

	gocmd(nil, "get", "-tool", "github.com/jobgen/jobgen/cmd/jobgen")
	gocmd(nil, "generate", "./...")
	if _, err := os.Stat(filepath.Join(dir, "jobs_jobgen.go")); err != nil {
		t.Fatalf("go generate wrote no jobs_jobgen.go: %v", err)
	}
	gocmd(nil, "mod", "tidy")
	if out := gocmd(nil, "run", "."); out != "hello, gopher\n" {
		t.Errorf("go run . printed %q, want %q", out, "hello, gopher\n")
	}

	noCgo := []string{"CGO_ENABLED=0"}
	gocmd(noCgo, "build", "./...")
	if out := gocmd(noCgo, "run", "./nocgo"); out != noCgoMessage+"\n" {
		t.Errorf("sqlite.Open without cgo returned\n%s\nwant\n%s", out, noCgoMessage)
	}
}

// moduleRoot returns the directory of this module's go.mod, found from the
// working directory up.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module github\.com/jobgen/jobgen\s*$`).Match(data) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of github.com/jobgen/jobgen above the working directory")
		}
		dir = parent
	}
}

// goCommand returns a function that runs the go command in dir with extra
// environment variables, fails the test when it fails, and returns its
// standard output. The environment is this one's, less what would make the
// new module depend on this tree's settings: GOFLAGS loses its -mod flag,
// GOWORK is off, and GOPROXY lets a proxy's refusal of a module path count
// as "not found" (the module is not published: go get asks the proxy
// whether github.com/jobgen/jobgen/cmd/jobgen is a module of its own, and
// some proxies answer that with 403 rather than 404).
func goCommand(t *testing.T, dir string) func(env []string, args ...string) string {
	var base []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS":
			var keep []string
			for _, f := range strings.Fields(v) {
				if !strings.HasPrefix(f, "-mod=") && !strings.HasPrefix(f, "-modfile=") {
					keep = append(keep, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(keep, " ")
		case "GOWORK", "GOPROXY":
			continue
		}
		base = append(base, kv)
	}
	base = append(base, "GOWORK=off", "GOPROXY="+proxyThenOff(t))
	return func(env []string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		cmd.Env = append(append([]string{}, base...), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		line := strings.Join(slices.Concat(env, []string{"go"}, args), " ")
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s%s", line, err, stdout.String(), stderr.String())
		}
		t.Logf("%s: %v", line, time.Since(start).Round(time.Millisecond))
		return stdout.String()
	}
}

// proxyThenOff returns the go command's proxies, each falling back to the
// next on any error and the last to "off", which answers "not found".
func proxyThenOff(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil {
		t.Fatalf("go env GOPROXY: %v", err)
	}
	var proxies []string
	for _, p := range strings.FieldsFunc(strings.TrimSpace(string(out)), func(r rune) bool { return r == ',' || r == '|' }) {
		if p != "direct" && p != "off" {
			proxies = append(proxies, p)
		}
	}
	return strings.Join(append(proxies, "off"), "|")
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDocSnippetsAreExamples keeps the documentation's code compiled: every
// Go block of the README is a piece of a file that is built and run (an
// example, the example service's jobs, or the new module of TestInstall),
// every code block in the doc comments of the runtime, its backends and the
// example package is made of lines of that package's examples, in their
// order (a doc may leave lines out), and the command's doc shows lines of
// the example's jobs and its usage synopsis.
func TestDocSnippetsAreExamples(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	read := func(rel string) string {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	examples := func(pkg string) []string {
		files, err := filepath.Glob(filepath.Join(root, pkg, "example*_test.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no examples in %s (%v)", pkg, err)
		}
		var srcs []string
		for _, f := range files {
			srcs = append(srcs, read(mustRel(t, root, f)))
		}
		return srcs
	}
	pkgs := []string{"runtime", "runtime/storage/memory", "runtime/storage/sqlite", "runtime/storage/postgres"}

	sources := []string{installJobs, installMain, read("example/jobs.go")}
	// The README also quotes the examples of these packages, whose own docs
	// hold outlines and route tables rather than code.
	for _, pkg := range append(slices.Clone(pkgs), "dashboard", "jobgentest") {
		sources = append(sources, examples(pkg)...)
	}
	blocks := regexp.MustCompile("(?ms)^```go\n(.*?)^```").FindAllStringSubmatch(read("README.md"), -1)
	if len(blocks) == 0 {
		t.Fatal("no Go blocks in README.md")
	}
	for _, b := range blocks {
		found := false
		for _, src := range sources {
			if strings.Contains(unindent(src), unindent(b[1])) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README.md: this Go block is in no example or built file:\n%s", b[1])
		}
	}

	docs := func(pkg, src, what string) {
		lines := strings.Split(unindent(src), "\n")
		for _, b := range docCode(t, filepath.Join(root, pkg)) {
			if missing := notInOrder(strings.Split(unindent(b.code), "\n"), lines); missing != "" {
				t.Errorf("%s/%s: line %q of this code block is not in %s (in this order):\n%s", pkg, b.file, missing, what, b.code)
			}
		}
	}
	for _, pkg := range append(pkgs, "example") {
		docs(pkg, strings.Join(examples(pkg), "\n"), "the package's examples")
	}
	// The command's doc shows a job of the example and the synopsis its
	// usage prints.
	synopsis := regexp.MustCompile(`"usage: (.*?)\\n`).FindStringSubmatch(read("cmd/jobgen/main.go"))
	if synopsis == nil {
		t.Fatal("no usage line in cmd/jobgen/main.go")
	}
	docs("cmd/jobgen", read("example/jobs.go")+"\n"+synopsis[1], "example/jobs.go or the usage synopsis")
}

func mustRel(t *testing.T, base, path string) string {
	rel, err := filepath.Rel(base, path)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// unindent drops the leading white space of every line.
func unindent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, " \t")
	}
	return strings.Join(lines, "\n")
}

// notInOrder returns the first line of want, other than blank lines and
// "...", that does not follow the previous ones in have; "" if all do. A
// line of want may leave out the end-of-line comment of its line in have.
func notInOrder(want, have []string) string {
	i := 0
	for _, w := range want {
		if w == "" || w == "..." {
			continue
		}
		for i < len(have) && have[i] != w && !strings.HasPrefix(have[i], w+" //") {
			i++
		}
		if i == len(have) {
			return w
		}
		i++
	}
	return ""
}

// A docBlock is a code block of a doc comment.
type docBlock struct {
	file, code string
}

// docCode returns the code blocks of the package doc and the top-level
// declarations' doc comments in the package's non-test files.
func docCode(t *testing.T, dir string) []docBlock {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	var p comment.Parser
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		docs := []*ast.CommentGroup{f.Doc}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				docs = append(docs, d.Doc)
			case *ast.GenDecl:
				docs = append(docs, d.Doc)
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						docs = append(docs, ts.Doc)
					}
				}
			}
		}
		for _, g := range docs {
			if g == nil {
				continue
			}
			for _, b := range p.Parse(g.Text()).Content {
				if code, ok := b.(*comment.Code); ok {
					blocks = append(blocks, docBlock{filepath.Base(path), code.Text})
				}
			}
		}
	}
	return blocks
}
