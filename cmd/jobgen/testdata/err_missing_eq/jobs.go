package errmissingeq

// Email sends mail.
//
//jobgen:job queue email attempts=5 trailing
type Email struct{}

// Upload sends a file.
//
//jobgen:job =5 timeout:30s
type Upload struct{}
