// Package fieldtypes has jobs whose fields use types from other packages and
// every kind of composite type that JSON can encode.
package fieldtypes

import (
	"encoding/json"
	"net/url"
	"time"

	sh "github.com/jobgen/jobgen/cmd/jobgen/testdata/shared"
)

// Crawl fetches pages.
//
//jobgen:job output=sh.Report unique=Start,Depth
type Crawl struct {
	Start    url.URL
	Depth    int
	Deadline time.Time
	Every    time.Duration
	Origin   sh.Point
	Path     []sh.Point
	Corners  [4]*sh.Point
	ByName   map[string]sh.Point
	ByID     map[int64][]string
	ByKey    map[sh.Key]bool
	Raw      json.RawMessage
	Extra    any
	Next     *Crawl
	Note     *string

	Embedded
	hook   func()   // unexported: not encoded
	Hooks  sh.Hooks `json:"-"`
	Ignore chan int `json:"-"`
}

// Embedded is embedded in Crawl; JSON promotes its fields.
type Embedded struct {
	Tags []string
}

// Stamp records a time; its output is a type of another package.
//
//jobgen:job output=time.Time
type Stamp struct {
	At time.Time
}

// Count counts words; its output is a predeclared type.
//
//jobgen:job output=int
type Count struct {
	Text string
}
