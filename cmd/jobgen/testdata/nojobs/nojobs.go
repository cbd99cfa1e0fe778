// Package nojobs has no jobs, so jobgen writes nothing for it. A comment that
// talks about jobgen:job in prose is not a directive.
package nojobs

// Plain is an ordinary struct.
type Plain struct {
	Name string
}
