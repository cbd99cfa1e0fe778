// Package migration reads the numbered schema migrations that the SQL
// backends embed. Each backend keeps its own SQL dialect, version table and
// locking; what they share is the rule for the files: dir/NNNN_what.sql,
// numbered from 1 without gaps, applied in number order.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema step.
type Migration struct {
	// Version is the file's number.
	Version int
	// Name is the file's name, without dir.
	Name string
	// SQL is the file's content.
	SQL string
}

// Load returns the migrations dir/*.sql of fsys in version order. It fails
// when a file is not named NNNN_what.sql or the numbers do not run from 1
// without gaps.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	ms := make([]Migration, 0, len(files))
	for i, f := range files {
		base := path.Base(f)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want number %04d", base, i+1)
		}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	return ms, nil
}
