package errgeneric

// Batch has a type parameter.
//
//jobgen:job
type Batch[T any] struct {
	Items []T
}
