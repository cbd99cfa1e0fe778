package main

import (
	"bufio"
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/jobgen/jobgen/templates"
)

// A loadedPackage is one package that the patterns matched, parsed and
// type-checked: the fields of golang.org/x/tools/go/packages.Package that
// jobgen uses, with the package's problems as diagnostics.
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

// load loads the packages that patterns match, relative to dir, with
// golang.org/x/tools/go/packages: parsed and type-checked. overlay maps
// absolute file paths to contents that replace or add those files. Every
// problem comes back as diagnostics.
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
// renamed) must not stop its own regeneration. Imported packages' types
// come from export data (no NeedDeps), which keeps the load fast.
func loadPackages(dir string, patterns []string, overlay map[string][]byte) (*token.FileSet, []*loadedPackage, error) {
	fset := token.NewFileSet()
	cfg := &packages.Config{
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Dir:     dir,
		Fset:    fset,
		Overlay: overlay,
		Tests:   false,
	}
	loaded, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", strings.Join(patterns, " "), err)
	}
	var pkgs []*loadedPackage
	for _, p := range loaded {
		pkg := &loadedPackage{
			PkgPath:      p.PkgPath,
			Name:         p.Name,
			GoFiles:      p.GoFiles,
			IgnoredFiles: p.IgnoredFiles,
			Syntax:       p.Syntax,
			Types:        p.Types,
			TypesInfo:    p.TypesInfo,
		}
		for _, e := range p.Errors {
			if e.Kind == packages.ListError && strings.HasPrefix(e.Msg, "# ") {
				// The compiler's report of the package's own errors, from
				// building export data; the type check reports the same
				// problems with positions.
				continue
			}
			pkg.Errors = append(pkg.Errors, loadDiag(e.Pos, e.Msg))
		}
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
		for _, id := range n.Declared() {
			names[id] = true
		}
	}
	return slices.DeleteFunc(slices.Clone(errs), func(d diagnostic) bool {
		name, ok := strings.CutPrefix(d.msg, "undefined: ")
		return ok && names[name]
	})
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

// loadDiag turns an error that go/packages reports at "file:line:col" into a
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
