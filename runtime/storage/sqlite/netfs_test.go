package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
)

// TestOpenRefusesNetworkFilesystem: a database file on a network filesystem
// is refused with a typed error that says why and what to do, before
// anything is created; AllowNetworkFilesystem opens it anyway.
func TestOpenRefusesNetworkFilesystem(t *testing.T) {
	dir := t.TempDir()
	networkFilesystemOf = func(d string) string {
		if d == dir {
			return "nfs"
		}
		return ""
	}
	t.Cleanup(func() { networkFilesystemOf = networkFilesystem })
	path := filepath.Join(dir, "jobs.db")

	_, err := Open(path, nil)
	if !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("Open on nfs: %v, want storage.ErrInvalid", err)
	}
	for _, want := range []string{path, "network filesystem (nfs)", "PostgreSQL", "AllowNetworkFilesystem"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused open left a file behind: %v", err)
	}
	if _, err := OpenDSN("file:"+escapePath(path)+"?cache=private", nil); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("OpenDSN on nfs: %v, want storage.ErrInvalid", err)
	}

	s, err := Open(path, &Options{AllowNetworkFilesystem: true})
	if err != nil {
		t.Fatalf("Open with AllowNetworkFilesystem: %v", err)
	}
	s.Close()
}

// TestLocalFilesystemIsNotNetwork: the test's temporary directory, on a
// local filesystem, is not taken for a network one.
func TestLocalFilesystemIsNotNetwork(t *testing.T) {
	if fs := networkFilesystem(t.TempDir()); fs != "" {
		t.Fatalf("temporary directory detected as network filesystem %q", fs)
	}
}
