// Package grouped declares jobs inside type groups.
package grouped

type (
	// Alpha is the first job of the group.
	//
	//jobgen:job queue=greek
	Alpha struct {
		N int
	}

	// NotAJob sits between the jobs.
	NotAJob struct{}

	// Beta is the second job of the group.
	//
	//jobgen:job queue=greek priority=1
	Beta struct {
		S string
	}
)

// Gamma is a lone spec in parentheses with its doc on the group.
//
//jobgen:job
type (
	Gamma struct{}
)
