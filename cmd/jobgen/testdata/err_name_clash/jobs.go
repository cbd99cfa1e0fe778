package errnameclash

// Resize scales one image.
//
//jobgen:job
type Resize struct{}

// ResizeClient is declared by hand and clashes with the generated client.
type ResizeClient struct{}

// Register clashes with the generated package-level Register.
func Register() {}
