package multifile

// Build compiles a module.
//
//jobgen:job output=BuildResult timeout=10m
type Build struct {
	Module string
}

// BuildResult is what a build produced.
type BuildResult struct {
	Binary string
}

// Clean removes a build's outputs.
//
//jobgen:job
type Clean struct {
	Module string
}
