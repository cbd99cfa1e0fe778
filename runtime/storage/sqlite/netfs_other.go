//go:build !linux

package sqlite

// networkFilesystem reports no network filesystem: outside Linux the store
// does not inspect the filesystem (see Options.AllowNetworkFilesystem).
func networkFilesystem(string) string { return "" }
