//go:build !unix

package runtimetest

import "time"

// processCPU returns false: CPU time is only read on Unix systems.
func processCPU() (time.Duration, bool) { return 0, false }
