// Package nooutput has jobs whose handlers return only an error.
package nooutput

// Ping checks that the workers are alive; it has no arguments and no output.
//
//jobgen:job
type Ping struct{}

// SendEmail sends one message.
//
//jobgen:job queue=email attempts=3
type SendEmail struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}
