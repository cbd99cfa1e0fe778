// Package usesgenerated uses its generated API before it exists: jobgen
// ignores the undefined names that it is about to generate, and only those.
package usesgenerated

import "github.com/jobgen/jobgen/runtime"

// Ping checks that the workers are alive.
//
//jobgen:job
type Ping struct{}

// Pinger handles Ping jobs.
type Pinger struct{}

var _ Handlers = Pinger{}

// Setup registers the handlers and returns the clients.
func Setup(srv *runtime.Server) (Clients, error) {
	return NewClients(srv.Client()), Register(srv, Pinger{})
}
