package errunknownkey

// Email sends mail.
//
//jobgen:job queue=email atempts=5 Timeout=1m colour=red
type Email struct{}
