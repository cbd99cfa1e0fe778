// Command jobgen generates typed clients and handlers for job structs.
//
// A job is an exported struct whose doc comment ends with a //jobgen:job
// directive, as in the example package's jobs.go:
//
//	// Resize scales a PNG image to a new width, keeping its aspect ratio. A
//	// second request for the same image name and width while one is active is
//	// not stored again.
//	//
//	//jobgen:job queue=media attempts=3 timeout=30s output=ResizeResult unique=Name,Width
//	type Resize struct {
//		// Name identifies the image.
//		Name string `json:"name"`
//		// Image is the PNG to scale.
//		Image []byte `json:"image"`
//		// Width is the width of the result in pixels.
//		Width int `json:"width"`
//	}
//
// For each file with jobs, jobgen writes <file>_jobgen.go next to it with,
// per job: ResizeKind (the runtime.Kind with the marker's defaults),
// ResizeClient and NewResizeClient, ResizeHandle, the ResizeHandler
// interface, the ResizeHandlerFunc adapter and RegisterResizeHandler. The
// file of the first source by name also holds the package-level Handlers
// interface, Register and the Clients struct with NewClients. Generated
// files import github.com/jobgen/jobgen/runtime as runtime.
//
// Usage:
//
//	jobgen [-debug] [packages]
//
// The packages default to ".". jobgen -help lists the marker keys. Problems
// are reported as file:line:col: message, all of them, and then nothing is
// written; the exit status is 1, or 2 for bad usage. Files whose contents
// are unchanged are not rewritten, and generated files that no source needs
// anymore are removed.
//
// jobgen never generates from a package that does not type-check, with two
// exceptions that would otherwise lock it out of fixing its own output:
// errors inside its stale generated files, and "undefined" errors for the
// very names it is about to generate (code that uses the generated API
// before the first run).
//
// Pipeline: load.go loads and type-checks the packages with go/packages,
// marker.go parses the directives, model.go checks them against the types
// and builds the templates model, and write.go renders every file before
// writing any.
package main
