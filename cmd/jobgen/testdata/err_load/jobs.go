package errload

// Email refers to a type that does not exist, so jobgen stops before
// reading markers: it never generates from a package that does not compile.
//
//jobgen:job atempts=1
type Email struct {
	To Address
}
