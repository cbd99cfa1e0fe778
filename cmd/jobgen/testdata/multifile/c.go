package multifile

// helper is not a job, so c.go gets no generated file.
func helper() {}
