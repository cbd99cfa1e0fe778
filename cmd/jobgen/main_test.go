package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

func TestMain(m *testing.M) {
	// The CLI tests run this test binary as the jobgen command.
	if os.Getenv("JOBGEN_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// cases returns the testdata packages; shared is imported by others and,
// having no jobs, is a case of its own. testdata/fuzz is the fuzz corpus.
func cases(t testing.TB) []string {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "fuzz" && !strings.HasPrefix(e.Name(), "scratch-") {
			names = append(names, e.Name())
		}
	}
	return names
}

// goldenFiles returns the names of the .golden files in dir.
func goldenFiles(t testing.TB, dir string) []string {
	matches, err := filepath.Glob(filepath.Join(dir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range matches {
		matches[i] = filepath.Base(m)
	}
	return matches
}

// TestGolden generates every testdata package and compares the output with
// <output>.golden, or the diagnostics with errors.golden. With -update it
// rewrites them instead.
func TestGolden(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", name)
			outs, stale, err := generate(options{Dir: dir, Patterns: []string{"."}})
			want := map[string][]byte{}
			var diags diagList
			switch {
			case errors.As(err, &diags):
				want["errors.golden"] = []byte(diags.Error() + "\n")
			case err != nil:
				t.Fatal(err)
			default:
				for _, o := range outs {
					if rel, _ := filepath.Rel(mustAbs(t, dir), o.Path); rel != filepath.Base(o.Path) {
						t.Errorf("output %s is not in the package directory", o.Path)
					}
					want[filepath.Base(o.Path)+".golden"] = o.Data
				}
				if len(stale) > 0 {
					t.Errorf("stale files %v in a clean testdata package", stale)
				}
			}
			if *update {
				for _, old := range goldenFiles(t, dir) {
					if _, ok := want[old]; !ok {
						os.Remove(filepath.Join(dir, old))
					}
				}
				for name, data := range want {
					if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			var wantNames []string
			for name := range want {
				wantNames = append(wantNames, name)
			}
			slices.Sort(wantNames)
			if diff := cmp.Diff(goldenFiles(t, dir), wantNames); diff != "" {
				t.Fatalf("golden files (-on disk +generated):\n%s", diff)
			}
			for _, name := range wantNames {
				golden, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(golden), string(want[name])); diff != "" {
					t.Errorf("%s (-golden +generated):\n%s", name, diff)
				}
			}
		})
	}
}

// TestCompile type-checks every package that generates cleanly together
// with its generated files, against the runtime package's current API.
func TestCompile(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", name)
			outs, _, err := generate(options{Dir: dir, Patterns: []string{"."}})
			if err != nil {
				var diags diagList
				if errors.As(err, &diags) {
					t.Skip("an error case")
				}
				t.Fatal(err)
			}
			if len(outs) == 0 {
				t.Skip("no jobs")
			}
			overlay := map[string][]byte{}
			for _, o := range outs {
				overlay[o.Path] = o.Data
			}
			if _, _, err := load(mustAbs(t, dir), []string{"."}, overlay); err != nil {
				t.Fatalf("generated code does not compile:\n%v", err)
			}
		})
	}
}

// TestDeterministic generates every case twice and wants the same bytes.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"basic", "multifile", "fieldtypes", "grouped"} {
		dir := filepath.Join("testdata", name)
		first, _, err := generate(options{Dir: dir, Patterns: []string{"."}})
		if err != nil {
			t.Fatal(err)
		}
		second, _, err := generate(options{Dir: dir, Patterns: []string{"."}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, second, cmp.AllowUnexported(output{})); diff != "" {
			t.Errorf("%s: second run differs:\n%s", name, diff)
		}
	}
}

func mustAbs(t testing.TB, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// scratch copies the files of testdata/<from> into a new package under
// testdata, inside the module so that its imports resolve, and removes it
// at the end of the test.
func scratch(t testing.TB, from string) string {
	dir, err := os.MkdirTemp("testdata", "scratch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	files, err := filepath.Glob(filepath.Join("testdata", from, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return mustAbs(t, dir)
}

// TestRunWrites covers what run does to the file system: it writes the
// outputs, leaves unchanged files alone, regenerates after a rename despite
// the stale output, removes outputs no source needs, and writes nothing at
// all when there is a problem.
func TestRunWrites(t *testing.T) {
	dir := scratch(t, "multifile")
	o := options{Dir: dir, Patterns: []string{"."}}
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	outA, outB := filepath.Join(dir, "a_jobgen.go"), filepath.Join(dir, "b_jobgen.go")
	for _, p := range []string{outA, outB} {
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c_jobgen.go")); !os.IsNotExist(err) {
		t.Errorf("c.go has no jobs but got an output: %v", err)
	}

	t.Run("unchanged", func(t *testing.T) {
		// An old modification time shows whether run rewrote the file.
		old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(outA, old, old); err != nil {
			t.Fatal(err)
		}
		if err := run(o); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(outA); err != nil || !fi.ModTime().Equal(old) {
			t.Errorf("run rewrote an unchanged file (%v)", err)
		}
	})

	t.Run("rename", func(t *testing.T) {
		src := filepath.Join(dir, "b.go")
		data, _ := os.ReadFile(src)
		renamed := strings.ReplaceAll(string(data), "Clean", "Purge")
		if err := os.WriteFile(src, []byte(renamed), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := run(o); err != nil {
			t.Fatalf("stale output stopped regeneration: %v", err)
		}
		out, _ := os.ReadFile(outB)
		if strings.Contains(string(out), "Clean") || !strings.Contains(string(out), "PurgeKind") {
			t.Error("b_jobgen.go was not regenerated for the renamed job")
		}
	})

	t.Run("problem writes nothing", func(t *testing.T) {
		before, _ := os.ReadFile(outB)
		src := filepath.Join(dir, "a.go")
		data, _ := os.ReadFile(src)
		broken := strings.Replace(string(data), "queue=archive", "queue=archive atempts=2", 1)
		if err := os.WriteFile(src, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(src, data, 0o644)
		// b.go changes too, so its output would change if anything were written.
		srcB := filepath.Join(dir, "b.go")
		dataB, _ := os.ReadFile(srcB)
		defer os.WriteFile(srcB, dataB, 0o644)
		os.WriteFile(srcB, []byte(strings.Replace(string(dataB), "timeout=10m", "timeout=20m", 1)), 0o644)
		var diags diagList
		if err := run(o); !errors.As(err, &diags) {
			t.Fatalf("run = %v, want diagnostics", err)
		}
		after, _ := os.ReadFile(outB)
		if !bytes.Equal(before, after) {
			t.Error("an output was written despite a problem")
		}
	})

	t.Run("stale output removed", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, "a.go")); err != nil {
			t.Fatal(err)
		}
		if err := run(o); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(outA); !os.IsNotExist(err) {
			t.Errorf("a_jobgen.go survived its source: %v", err)
		}
		out, _ := os.ReadFile(outB)
		if !strings.Contains(string(out), "func Register(") {
			t.Error("the package-level wiring did not move to b_jobgen.go")
		}
	})
}

// jobgen runs this test binary as the jobgen command in dir.
func jobgen(t *testing.T, dir string, args ...string) (stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "JOBGEN_TEST_MAIN=1")
	var buf bytes.Buffer
	cmd.Stderr = &buf
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return buf.String(), code
}

func TestCommand(t *testing.T) {
	t.Parallel()
	t.Run("diagnostics exit 1", func(t *testing.T) {
		t.Parallel()
		stderr, code := jobgen(t, filepath.Join("testdata", "err_unknown_key"))
		want, _ := os.ReadFile(filepath.Join("testdata", "err_unknown_key", "errors.golden"))
		if code != 1 || stderr != string(want) {
			t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and errors.golden", code, stderr)
		}
	})
	t.Run("usage exits 2", func(t *testing.T) {
		t.Parallel()
		if _, code := jobgen(t, ".", "-nosuchflag"); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
	t.Run("help lists the keys", func(t *testing.T) {
		t.Parallel()
		stderr, code := jobgen(t, ".", "-help")
		if code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		for _, k := range schema {
			if !strings.Contains(stderr, "  "+k.Key+" ") {
				t.Errorf("-help does not list %s:\n%s", k.Key, stderr)
			}
		}
	})
	t.Run("no jobs writes nothing", func(t *testing.T) {
		t.Parallel()
		if stderr, code := jobgen(t, filepath.Join("testdata", "nojobs")); code != 0 || stderr != "" {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		if files, _ := filepath.Glob(filepath.Join("testdata", "nojobs", "*_jobgen.go")); len(files) > 0 {
			t.Errorf("wrote %v", files)
		}
	})
}

// TestRenderDebug checks that a render failure returns an error, and with
// debug set also prints the unformatted source.
func TestRenderDebug(t *testing.T) {
	t.Parallel()
	bad := templates.Package{Path: "example.com/p", Name: "p", Jobs: []templates.Job{
		{Name: "Not An Identifier", Source: "jobs.go", Kind: "bad", Queue: "default"},
	}}
	for _, debug := range []bool{false, true} {
		var buf bytes.Buffer
		outs, err := render(bad, t.TempDir(), debug, &buf)
		if err == nil || outs != nil {
			t.Fatalf("render = %d outputs, %v; want an error", len(outs), err)
		}
		if got := strings.Contains(buf.String(), "type Not An IdentifierHandle = runtime.NoOutputHandle"); got != debug {
			t.Errorf("debug=%v: printed the source = %v:\n%s", debug, got, buf.String())
		}
	}
}
