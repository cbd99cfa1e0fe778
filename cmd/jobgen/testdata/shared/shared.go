// Package shared declares types that other testdata packages use in jobs.
package shared

import "time"

// Point is a position.
type Point struct {
	X, Y int
}

// Report is a job output declared in another package.
type Report struct {
	Lines []string
	At    time.Time
}

// Key is a map key that encodes itself as text.
type Key struct{ A, B string }

// MarshalText implements encoding.TextMarshaler.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.A + "/" + k.B), nil }

// Hooks cannot be encoded as JSON.
type Hooks struct {
	OnDone func()
}

type unexported struct{}
