package migration

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql":  {Data: []byte("two")},
		"m/0001_init.sql":  {Data: []byte("one")},
		"m/README.md":      {Data: []byte("not a migration")},
		"other/0001_x.sql": {Data: []byte("elsewhere")},
	}
	ms, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	want := []Migration{{1, "0001_init.sql", "one"}, {2, "0002_more.sql", "two"}}
	if !slices.Equal(ms, want) {
		t.Errorf("Load = %+v, want %+v", ms, want)
	}

	ms, err = Load(fstest.MapFS{}, "m")
	if err != nil || len(ms) != 0 {
		t.Errorf("Load of no files = %+v, %v; want none", ms, err)
	}

	for name, files := range map[string][]string{
		"a gap":          {"0001_a.sql", "0003_c.sql"},
		"not from one":   {"0002_b.sql"},
		"a number twice": {"0001_a.sql", "0001_b.sql"},
		"no number":      {"0001_a.sql", "init.sql"},
		"no name":        {"0001.sql"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range files {
			fsys["m/"+f] = &fstest.MapFile{Data: []byte("x")}
		}
		if _, err := Load(fsys, "m"); err == nil || !strings.Contains(err.Error(), "want number") {
			t.Errorf("%s: Load error = %v, want one naming the number it wants", name, err)
		}
	}
}
