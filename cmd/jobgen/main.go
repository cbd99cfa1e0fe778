package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("jobgen: ")
	debug := flag.Bool("debug", false, "on a render failure, print the unformatted source")
	flag.Usage = usage
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	err := run(options{Patterns: patterns, Debug: *debug, Stderr: os.Stderr})
	var diags diagList
	switch {
	case errors.As(err, &diags):
		for _, d := range diags {
			fmt.Fprintln(os.Stderr, d)
		}
		os.Exit(1)
	case err != nil:
		log.Fatal(err)
	}
}

func usage() {
	w := flag.CommandLine.Output()
	fmt.Fprintf(w, "usage: jobgen [-debug] [packages]\n\n")
	fmt.Fprintf(w, "jobgen generates typed clients and handlers for the job structs of the\n")
	fmt.Fprintf(w, "packages (default \".\"), writing <file>_jobgen.go next to each file with jobs.\n\n")
	flag.PrintDefaults()
	fmt.Fprintln(w)
	printSchema(w)
}

// options configure one run.
type options struct {
	// Dir is the directory patterns are relative to, and diagnostics' paths.
	// Empty means the working directory.
	Dir      string
	Patterns []string
	Debug    bool
	// Stderr receives the -debug output.
	Stderr io.Writer
}

// run generates the code for the packages that o's patterns match and
// writes it. It writes nothing unless every package is free of problems and
// rendered.
func run(o options) error {
	outs, stale, err := generate(o)
	if err != nil {
		return err
	}
	return write(outs, stale)
}

// generate loads, checks and renders, and returns the files to write and
// the stale generated files to remove. Problems found in the packages come
// back as a diagList.
func generate(o options) (outs []output, stale []string, err error) {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, nil, err
	}
	fset, pkgs, err := loadPackages(dir, o.Patterns, nil)
	if err != nil {
		return nil, nil, err
	}
	var diags diagnostics
	for _, pkg := range pkgs {
		model, ds := buildModel(fset, pkg, dir)
		if errs := withoutGenerated(pkg.Errors, model); len(errs) > 0 {
			// Never generate from a broken package, and report only why it
			// is broken: the markers' problems may follow from it.
			diags = append(diags, errs...)
			continue
		}
		diags = append(diags, ds...)
		if len(diags) > 0 {
			continue
		}
		if len(pkg.GoFiles) == 0 {
			continue
		}
		rendered, err := render(model, filepath.Dir(pkg.GoFiles[0]), o.Debug, o.Stderr)
		if err != nil {
			return nil, nil, err
		}
		outs = append(outs, rendered...)
		stale = append(stale, staleFiles(pkg, rendered)...)
	}
	if len(diags) > 0 {
		return nil, nil, diags.list(dir)
	}
	return outs, stale, nil
}
