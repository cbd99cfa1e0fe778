// Package jobgen is a typed job-queue framework: annotate plain structs with
// //jobgen:job, run the generator in cmd/jobgen, and get typed clients and
// handler interfaces over the generic engine in package runtime. Package
// example shows the whole flow.
//
// This file holds the go:generate directive that keeps the example's
// generated code current; CI runs go generate ./... and then expects no
// diff.
package jobgen

//go:generate go run ./cmd/jobgen ./example
