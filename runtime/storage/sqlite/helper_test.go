package sqlite

import "os"

// helperEnv selects the role of a re-executed test binary.
const helperEnv = "JOBGEN_SQLITE_HELPER"

// helperRoles are the roles a re-executed test binary may play, by name.
var helperRoles = map[string]func() int{}

// runHelperProcess runs the role named by helperEnv and exits, when the
// test binary was started as a helper; it returns false otherwise.
func runHelperProcess() bool {
	role := os.Getenv(helperEnv)
	if role == "" {
		return false
	}
	fn, ok := helperRoles[role]
	if !ok {
		os.Stderr.WriteString("unknown helper role " + role + "\n")
		os.Exit(2)
	}
	os.Exit(fn())
	return true
}
