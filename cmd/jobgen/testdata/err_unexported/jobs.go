package errunexported

// email is not exported.
//
//jobgen:job
type email struct{}
