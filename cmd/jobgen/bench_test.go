package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// synthetic50 writes a package of 50 jobs, with a mix of marker keys and
// field types, into a scratch directory and returns it.
func synthetic50(b *testing.B) string {
	b.Helper()
	dir, err := os.MkdirTemp("testdata", "scratch-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	var src strings.Builder
	src.WriteString("package bench\n\nimport (\n\t\"net/url\"\n\t\"time\"\n)\n\n")
	for i := range 50 {
		fmt.Fprintf(&src, "// Job%02d is job number %d.\n//\n", i, i)
		switch i % 3 {
		case 0:
			fmt.Fprintf(&src, "//jobgen:job queue=q%d attempts=%d timeout=%ds output=Result%02d unique=ID\n", i%5, i+1, i+1, i)
		case 1:
			src.WriteString("//jobgen:job priority=2 backoff=250ms\n")
		default:
			src.WriteString("//jobgen:job\n")
		}
		fmt.Fprintf(&src, "type Job%02d struct {\n\tID int64\n\tName string\n\tAt time.Time\n\tURL *url.URL\n\tTags []string\n\tMeta map[string]float64\n}\n\n", i)
		if i%3 == 0 {
			fmt.Fprintf(&src, "// Result%02d is the output of Job%02d.\ntype Result%02d struct {\n\tOK bool\n}\n\n", i, i, i)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "jobs.go"), []byte(src.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	abs := mustAbs(b, dir)
	// Warm the build cache, so that both benchmarks measure a steady state.
	if _, _, err := generate(options{Dir: abs, Patterns: []string{"."}}); err != nil {
		b.Fatal(err)
	}
	return abs
}

// BenchmarkGenerate50 is a whole run short of writing: load, markers,
// model and render of a 50-job package.
func BenchmarkGenerate50(b *testing.B) {
	dir := synthetic50(b)
	for b.Loop() {
		outs, _, err := generate(options{Dir: dir, Patterns: []string{"."}})
		if err != nil || len(outs) != 1 {
			b.Fatal(outs, err)
		}
	}
}

// BenchmarkLoadOnly50 is the go/packages load alone (parse, type check) of
// the package that BenchmarkGenerate50 generates.
func BenchmarkLoadOnly50(b *testing.B) {
	dir := synthetic50(b)
	for b.Loop() {
		if _, _, err := load(dir, []string{"."}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkModelRender50 is what generation adds to the load: markers,
// model and render of the already loaded 50-job package.
func BenchmarkModelRender50(b *testing.B) {
	dir := synthetic50(b)
	fset, pkgs, err := load(dir, []string{"."}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		model, diags := buildModel(fset, pkgs[0], dir)
		if len(diags) > 0 {
			b.Fatal(diags.list(dir))
		}
		if _, err := render(model, dir, false, nil); err != nil {
			b.Fatal(err)
		}
	}
}
