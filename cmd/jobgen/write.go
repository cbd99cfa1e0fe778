package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/imports"

	"github.com/jobgen/jobgen/templates"
)

// outputSuffix replaces ".go" in the name of a file with jobs to name its
// generated file: jobs.go → jobs_jobgen.go.
const outputSuffix = "_jobgen.go"

// An output is one generated file.
type output struct {
	Path string
	Data []byte
}

// render renders the generated files of one package whose source files are
// in dir. A package without jobs has none. The file of the first source
// (by name) also carries the package-level wiring. With debug set, a file
// that fails to format is written to debugOut unformatted.
func render(p templates.Package, dir string, debug bool, debugOut io.Writer) ([]output, error) {
	var sources []string
	for _, j := range p.Jobs {
		if !slices.Contains(sources, j.Source) {
			sources = append(sources, j.Source)
		}
	}
	slices.Sort(sources)
	var outs []output
	for i, src := range sources {
		f := templates.NewFile(p, src)
		templates.Source(f, p, src, i == 0)
		f.NoFormat = true
		var raw bytes.Buffer
		if err := f.Render(&raw); err != nil {
			return nil, fmt.Errorf("render %s: %w", src, err)
		}
		data, err := formatSource(raw.Bytes())
		if err != nil {
			if debug {
				fmt.Fprintf(debugOut, "unformatted output for %s:\n%s\n", src, raw.Bytes())
			}
			return nil, fmt.Errorf("format output for %s: %w (run with -debug to see it)", src, err)
		}
		outs = append(outs, output{Path: filepath.Join(dir, outputName(src)), Data: data})
	}
	return outs, nil
}

// formatSource formats src as goimports does, without adding or removing
// imports: gofmt, and the imports grouped (standard library first).
func formatSource(src []byte) ([]byte, error) {
	return imports.Process("", src, &imports.Options{FormatOnly: true, Comments: true, TabIndent: true, TabWidth: 8})
}

// outputName is the name of the file generated for source.
func outputName(source string) string {
	return strings.TrimSuffix(source, ".go") + outputSuffix
}

// write writes outs, leaving files whose contents are already right alone,
// and removes the stale generated files, those that no source needs anymore.
func write(outs []output, stale []string) error {
	for _, o := range outs {
		if old, err := os.ReadFile(o.Path); err == nil && bytes.Equal(old, o.Data) {
			continue
		}
		if err := os.WriteFile(o.Path, o.Data, 0o644); err != nil {
			return err
		}
	}
	for _, path := range stale {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// staleFiles returns the generated files of pkg that outs do not replace.
func staleFiles(pkg *loadedPackage, outs []output) []string {
	var stale []string
	for _, path := range generatedFiles(pkg) {
		if !slices.ContainsFunc(outs, func(o output) bool { return o.Path == path }) {
			stale = append(stale, path)
		}
	}
	return stale
}
