// Package errundefined uses a generated name that jobgen would not
// generate, since the job it belongs to has no marker.
package errundefined

// Ping checks that the workers are alive.
//
//jobgen:job
type Ping struct{}

// Pong is not a job.
type Pong struct{}

var (
	_ PingClient
	_ PongClient
)
