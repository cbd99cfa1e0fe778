// Package templates emits the Go code that jobgen generates for annotated job
// structs. It renders a plain model (Package, Job, Field) with jennifer and
// knows nothing about go/ast or go/types: cmd/jobgen builds the model.
//
// There is one exported function per artifact, each adding to a *jen.File:
//
//	f := templates.NewFile(pkg, "jobs.go") // header and pinned imports
//	templates.Source(f, pkg, "jobs.go", true)
//
// Source calls Kind, Handle, Client and Handler for each job declared in the
// source file and, for the file that carries the package-level wiring,
// Handlers, Register and Clients. Generated files import the runtime package
// under its own name, runtime.
package templates
