package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobgen/jobgen/runtime/storage"
)

// schemaOf returns the definitions of every table and index in the file.
func schemaOf(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open(driverName, "file:"+escapePath(path)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ms := Migrations()
	if len(ms) != SchemaVersion() {
		t.Fatalf("%d migrations, SchemaVersion %d", len(ms), SchemaVersion())
	}
	for i, m := range ms {
		if m.Version != i+1 || m.Name == "" || m.SQL == "" {
			t.Fatalf("migration %d: %+v", i, m)
		}
	}
}

// TestMigrationSQL applies the script to a database jobgen never touched
// and requires the schema Open makes, at the version Open records, so Open
// afterwards migrates nothing.
func TestMigrationSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	opened := filepath.Join(dir, "opened.db")
	s, err := Open(opened, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	scripted := filepath.Join(dir, "scripted.db")
	script, err := MigrationSQL(0)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driverName, "file:"+escapePath(scripted))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(script); err != nil {
		t.Fatalf("apply script: %v\n%s", err, script)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, path := range []string{opened, scripted} {
		v, err := DatabaseVersion(ctx, path)
		if err != nil || v != SchemaVersion() {
			t.Fatalf("DatabaseVersion(%s) = %d, %v; want %d", filepath.Base(path), v, err, SchemaVersion())
		}
	}
	if diff := cmp.Diff(schemaOf(t, opened), schemaOf(t, scripted)); diff != "" {
		t.Fatalf("schema of the script differs from Open's (-open +script):\n%s", diff)
	}
	s, err = Open(scripted, nil)
	if err != nil {
		t.Fatalf("open the scripted database: %v", err)
	}
	s.Close()

	// From the current version the script only records it.
	tail, err := MigrationSQL(SchemaVersion())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Migrations() {
		if strings.Contains(tail, m.SQL) {
			t.Fatalf("script from the current version applies %s again", m.Name)
		}
	}
	for _, bad := range []int{-1, SchemaVersion() + 1} {
		if _, err := MigrationSQL(bad); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("MigrationSQL(%d): %v, want ErrInvalid", bad, err)
		}
	}
}

// TestDatabaseVersion reads the version of files in every state without
// creating or changing any.
func TestDatabaseVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.db")
	if _, err := DatabaseVersion(ctx, missing); err == nil {
		t.Fatal("DatabaseVersion of a missing file: no error")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("DatabaseVersion created the missing file: %v", err)
	}

	other := filepath.Join(dir, "other.db")
	db, err := sql.Open(driverName, "file:"+escapePath(other))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE app (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if v, err := DatabaseVersion(ctx, other); err != nil || v != 0 {
		t.Fatalf("DatabaseVersion of an application's file = %d, %v; want 0", v, err)
	}
	if got := schemaOf(t, other); len(got) != 1 {
		t.Fatalf("DatabaseVersion changed the file: %q", got)
	}

	s, path := newStore(t, nil)
	if _, err := s.write.Exec(`UPDATE jobgen_schema SET version = ?`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if v, err := DatabaseVersion(ctx, path); err != nil || v != SchemaVersion()+1 {
		t.Fatalf("DatabaseVersion of a newer file = %d, %v; want %d", v, err, SchemaVersion()+1)
	}

	for _, bad := range []string{"", ":memory:", "file:x.db"} {
		if _, err := DatabaseVersion(ctx, bad); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("DatabaseVersion(%q): %v, want ErrInvalid", bad, err)
		}
	}
}
