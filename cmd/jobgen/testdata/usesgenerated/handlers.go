package usesgenerated

import (
	"context"

	"github.com/jobgen/jobgen/runtime"
)

// HandlePing does nothing.
func (Pinger) HandlePing(ctx context.Context, job *runtime.Job[Ping]) error { return nil }
