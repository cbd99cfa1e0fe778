package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/jobgen/jobgen/templates"
)

// A loadedPackage is one package that the patterns matched, parsed and
// type-checked. It has the fields of golang.org/x/tools/go/packages.Package
// that jobgen uses, with the same meaning.
type loadedPackage struct {
	PkgPath      string
	Name         string
	GoFiles      []string
	IgnoredFiles []string
	Syntax       []*ast.File
	Types        *types.Package
	TypesInfo    *types.Info
	Errors       diagnostics
}

// listedPackage is the part of go list's output that load reads.
type listedPackage struct {
	ImportPath     string
	Name           string
	Dir            string
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	Export         string
	DepOnly        bool
	Incomplete     bool
	Error          *struct {
		Pos string
		Err string
	}
}

// load lists the packages that patterns match, relative to dir, parses them
// and type-checks them; imported packages' types come from the export data
// go list -export produces, as go/packages does without NeedDeps. overlay
// maps absolute file paths to contents that replace or add those files.
// Every error comes back as diagnostics.
func load(dir string, patterns []string, overlay map[string][]byte) (*token.FileSet, []*loadedPackage, error) {
	fset, pkgs, err := loadPackages(dir, patterns, overlay)
	if err != nil {
		return nil, nil, err
	}
	var diags diagnostics
	for _, pkg := range pkgs {
		diags = append(diags, pkg.Errors...)
	}
	if len(diags) > 0 {
		return nil, nil, diags.list(dir)
	}
	return fset, pkgs, nil
}

// loadPackages is load, except that it leaves the packages' problems in
// their Errors, and drops those in files jobgen generated itself: those
// files are about to be replaced, and a stale one (say, for a job that was
// renamed) must not stop its own regeneration.
func loadPackages(dir string, patterns []string, overlay map[string][]byte) (*token.FileSet, []*loadedPackage, error) {
	listed, err := goList(dir, patterns, overlay)
	if err != nil {
		return nil, nil, err
	}
	exports := map[string]string{}
	for _, lp := range listed {
		if lp.Export != "" {
			exports[lp.ImportPath] = lp.Export
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	})
	var pkgs []*loadedPackage
	for _, lp := range listed {
		if lp.DepOnly {
			continue
		}
		pkg := check(fset, imp, lp, overlay)
		generated := generatedFiles(pkg)
		pkg.Errors = slices.DeleteFunc(pkg.Errors, func(d diagnostic) bool {
			return d.file != "" && slices.Contains(generated, d.file)
		})
		pkgs = append(pkgs, pkg)
	}
	if len(pkgs) == 0 {
		return nil, nil, fmt.Errorf("no packages match %s", strings.Join(patterns, " "))
	}
	return fset, pkgs, nil
}

// withoutGenerated drops from errs the reports of undefined names that the
// generated code of model declares: code beside the jobs may use the
// generated API before it exists (on the first run, or after a new job).
func withoutGenerated(errs diagnostics, model templates.Package) diagnostics {
	if len(model.Jobs) == 0 {
		return errs
	}
	names := map[string]bool{
		templates.HandlersName: true, templates.RegisterName: true,
		templates.ClientsName: true, templates.NewClientsName: true,
	}
	for _, j := range model.Jobs {
		n := templates.NamesOf(j.Name)
		for _, id := range []string{n.Kind, n.Client, n.NewClient, n.Handle, n.Handler, n.HandlerFunc, n.Register} {
			names[id] = true
		}
	}
	return slices.DeleteFunc(slices.Clone(errs), func(d diagnostic) bool {
		name, ok := strings.CutPrefix(d.msg, "undefined: ")
		return ok && names[name]
	})
}

// goList runs go list -deps -export on patterns and decodes its output.
func goList(dir string, patterns []string, overlay map[string][]byte) ([]listedPackage, error) {
	args := []string{"list", "-e", "-deps", "-export", "-compiled=false",
		"-json=ImportPath,Name,Dir,GoFiles,CgoFiles,IgnoredGoFiles,Export,DepOnly,Incomplete,Error"}
	if len(overlay) > 0 {
		file, cleanup, err := writeOverlay(overlay)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		args = append(args, "-overlay="+file)
	}
	args = append(args, "--")
	args = append(args, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var out []listedPackage
	for dec := json.NewDecoder(&stdout); ; {
		var lp listedPackage
		if err := dec.Decode(&lp); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list: decode output: %w", err)
		}
		out = append(out, lp)
	}
	return out, nil
}

// writeOverlay writes overlay in the form go list -overlay reads.
func writeOverlay(overlay map[string][]byte) (file string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", "jobgen-overlay")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	replace := map[string]string{}
	i := 0
	for path, data := range overlay {
		backing := filepath.Join(tmp, fmt.Sprintf("%d.go", i))
		i++
		if err := os.WriteFile(backing, data, 0o644); err != nil {
			cleanup()
			return "", nil, err
		}
		replace[path] = backing
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err == nil {
		file = filepath.Join(tmp, "overlay.json")
		err = os.WriteFile(file, b, 0o644)
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return file, cleanup, nil
}

// check parses and type-checks one listed package.
func check(fset *token.FileSet, imp types.Importer, lp listedPackage, overlay map[string][]byte) *loadedPackage {
	abs := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(lp.Dir, n)
		}
		return out
	}
	pkg := &loadedPackage{
		PkgPath:      lp.ImportPath,
		Name:         lp.Name,
		GoFiles:      abs(slices.Concat(lp.GoFiles, lp.CgoFiles)),
		IgnoredFiles: abs(lp.IgnoredGoFiles),
	}
	// A compile error of the package itself comes from -export; the type
	// check below reports the same problems, with positions.
	if lp.Error != nil && !strings.HasPrefix(lp.Error.Err, "# ") {
		pkg.Errors = append(pkg.Errors, loadDiag(lp.Error.Pos, lp.Error.Err))
	}
	for _, path := range pkg.GoFiles {
		var src any
		if data, ok := overlay[path]; ok {
			src = data
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
		if list, ok := err.(scanner.ErrorList); ok {
			for _, e := range list {
				pkg.Errors = append(pkg.Errors, diagnostic{file: e.Pos.Filename, line: e.Pos.Line, col: e.Pos.Column, msg: e.Msg})
			}
		} else if err != nil {
			pkg.Errors = append(pkg.Errors, diagnostic{file: path, msg: err.Error()})
		}
		if f != nil {
			pkg.Syntax = append(pkg.Syntax, f)
		}
	}
	pkg.TypesInfo = &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Implicits:  map[ast.Node]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
		Scopes:     map[ast.Node]*types.Scope{},
	}
	conf := types.Config{
		Importer: imp,
		Sizes:    types.SizesFor("gc", goruntime.GOARCH),
		Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				p := te.Fset.Position(te.Pos)
				pkg.Errors = append(pkg.Errors, diagnostic{file: p.Filename, line: p.Line, col: p.Column, msg: te.Msg})
			}
		},
	}
	pkg.Types, _ = conf.Check(lp.ImportPath, fset, pkg.Syntax, pkg.TypesInfo)
	return pkg
}

// generatedFiles returns the files of pkg that jobgen generated: those
// named *_jobgen.go whose first line is templates.Header.
func generatedFiles(pkg *loadedPackage) []string {
	var out []string
	for _, name := range slices.Concat(pkg.GoFiles, pkg.IgnoredFiles) {
		if isGenerated(name) {
			out = append(out, name)
		}
	}
	return out
}

func isGenerated(path string) bool {
	if !strings.HasSuffix(path, outputSuffix) {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.TrimRight(line, "\r\n") == templates.Header
}

// A diagnostic is one problem at one position. line and col are zero when
// unknown; file is empty when the problem belongs to no file.
type diagnostic struct {
	file      string
	line, col int
	msg       string
}

var errPos = regexp.MustCompile(`^(.*?):(\d+)(?::(\d+))?$`)

// loadDiag turns an error that go list reports at "file:line:col" into a
// diagnostic.
func loadDiag(pos, msg string) diagnostic {
	m := errPos.FindStringSubmatch(pos)
	if m == nil {
		return diagnostic{msg: msg}
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	return diagnostic{file: m[1], line: line, col: col, msg: msg}
}

// diagnostics collects problems so that all of them are reported at once.
type diagnostics []diagnostic

func (ds *diagnostics) add(fset *token.FileSet, pos token.Pos, format string, args ...any) {
	p := fset.Position(pos)
	*ds = append(*ds, diagnostic{file: p.Filename, line: p.Line, col: p.Column, msg: fmt.Sprintf(format, args...)})
}

// list sorts the diagnostics by position and formats them as
// file:line:col: message, with paths relative to dir.
func (ds diagnostics) list(dir string) diagList {
	ds = slices.Clone(ds)
	slices.SortStableFunc(ds, func(a, b diagnostic) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
	})
	out := make(diagList, 0, len(ds))
	for _, d := range slices.CompactFunc(ds, func(a, b diagnostic) bool { return a == b }) {
		switch {
		case d.file == "":
			out = append(out, d.msg)
		case d.line == 0:
			out = append(out, fmt.Sprintf("%s: %s", relPath(dir, d.file), d.msg))
		case d.col == 0:
			out = append(out, fmt.Sprintf("%s:%d: %s", relPath(dir, d.file), d.line, d.msg))
		default:
			out = append(out, fmt.Sprintf("%s:%d:%d: %s", relPath(dir, d.file), d.line, d.col, d.msg))
		}
	}
	return out
}

// diagList is the error of a run that found problems: one formatted
// diagnostic per line.
type diagList []string

func (l diagList) Error() string { return strings.Join(l, "\n") }

// relPath returns path relative to dir when it can, else path itself.
func relPath(dir, path string) string {
	if !filepath.IsAbs(path) {
		return path
	}
	if rel, err := filepath.Rel(dir, path); err == nil {
		return rel
	}
	return path
}
