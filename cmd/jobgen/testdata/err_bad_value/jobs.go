package errbadvalue

// Email sends mail.
//
//jobgen:job attempts=five timeout=soon backoff=-1s priority=high
type Email struct{}

// Upload sends a file.
//
//jobgen:job kind=Upload queue=_x attempts=0 timeout=0s output=a.b.c unique=A,,B
type Upload struct{ A, B string }

// Fetch gets a page.
//
//jobgen:job queue= kind="fetch" timeout=30s,
type Fetch struct{}
