package errdirective

// Email misspells the directive.
//
//jobgen:jbo queue=email
type Email struct{}

// Upload uses a directive that does not exist.
//
//jobgen:schedule every=1h
type Upload struct{}

// Fetch puts a space after the slashes.
//
// jobgen:job queue=web
type Fetch struct{}

// Twice has two directives.
//
//jobgen:job queue=a
//jobgen:job queue=b
type Twice struct{}

// Upper writes the name in upper case.
//
// jobgen:Job
type Upper struct{}
