package erroutput

import (
	"io"

	"github.com/jobgen/jobgen/cmd/jobgen/testdata/shared"
)

// A uses an output type that does not exist.
//
//jobgen:job output=AResult
type A struct{}

// B uses a package it does not import.
//
//jobgen:job output=strings.Builder
type B struct{}

// C uses an unexported type of another package.
//
//jobgen:job output=shared.unexported
type C struct{}

// D uses an interface.
//
//jobgen:job output=io.Reader
type D struct{}

// E uses a type JSON cannot encode.
//
//jobgen:job output=shared.Hooks
type E struct{}

// F uses a generic type.
//
//jobgen:job output=Pair
type F struct{}

// G uses a function, not a type.
//
//jobgen:job output=helper
type G struct{}

// Pair is generic.
type Pair[T any] struct{ A, B T }

func helper() {}

var (
	_ io.Reader
	_ shared.Point
)
