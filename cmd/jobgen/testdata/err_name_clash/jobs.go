package errnameclash

// Resize scales one image.
//
//jobgen:job
type Resize struct{}

// ResizeClient is declared by hand and clashes with the generated client.
type ResizeClient struct{}

// Register clashes with the generated package-level Register.
func Register() {}

// errors clashes with the generated code's import of package errors.
var errors = 1
