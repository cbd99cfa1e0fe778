package errunencodable

import (
	"unsafe"

	"github.com/jobgen/jobgen/cmd/jobgen/testdata/shared"
)

// Bad has fields that JSON cannot encode.
//
//jobgen:job
type Bad struct {
	Done     chan struct{}
	Callback func() error
	Z        complex128
	Ptr      unsafe.Pointer
	Nested   Inner
	Hooks    *shared.Hooks
	ByPoint  map[shared.Point]string
	Deep     []map[string]*[2]chan int
	Fine     map[string]int
	Skipped  func() `json:"-"`
	internal chan int
}

// Inner nests an unencodable field.
type Inner struct {
	Name  string
	Later struct {
		C complex64
	}
}
