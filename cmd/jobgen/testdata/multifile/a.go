// Package multifile spreads its jobs over several files.
package multifile

// Archive stores a file in the archive.
//
//jobgen:job queue=archive
type Archive struct {
	Path string
}
