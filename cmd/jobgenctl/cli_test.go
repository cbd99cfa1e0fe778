package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDSN covers where the database comes from and how a wrong one fails.
func TestDSN(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "jobs.db")
	requireFailure(t, ctl(t, nil, "jobs", "list"), 2, "no database: give --dsn or set JOBGEN_DSN", nil)
	requireFailure(t, ctl(t, nil, "jobs", "list", "--dsn", path), 1, "SQLite database "+path+" does not exist", nil)
	if _, err := os.Stat(path); err == nil {
		t.Fatal("jobs list created the SQLite file")
	}
	if r := ctl(t, []string{envDSN + "=sqlite:" + path}, "migrate", "up"); r.code != 0 {
		t.Fatalf("migrate up with %s: %+v", envDSN, r)
	}
	if r := ctl(t, []string{envDSN + "=" + path}, "jobs", "list"); r.code != 0 || !strings.HasPrefix(r.stdout, "ID  STATE") {
		t.Fatalf("jobs list with %s: %+v", envDSN, r)
	}
	// --dsn wins over the environment.
	requireFailure(t, ctl(t, []string{envDSN + "=" + path}, "jobs", "list", "--dsn", path+".missing"), 1, "does not exist", nil)
	requireFailure(t, ctl(t, nil, "stats", "--dsn", "mysql://root@localhost/jobs"), 2, `unknown DSN scheme "mysql"`, nil)
	requireFailure(t, ctl(t, nil, "stats", "--dsn", "sqlite:"), 2, "empty SQLite path", nil)
	requireFailure(t, ctl(t, nil, "stats", "--dsn", path, "--table-prefix", "app_"), 2, "are PostgreSQL options", nil)
}

// TestRedactPassword requires that no message shows a DSN's password,
// whichever way the DSN spelled it and whichever step failed.
func TestRedactPassword(t *testing.T) {
	t.Parallel()
	const secret = "s3cr%40t-pw" // "s3cr@t-pw" in the URL's escaping
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"unreachable", nil, []string{"stats", "--dsn", "postgres://jobs:" + secret + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=5"}},
		{"unreachable from the environment", []string{envDSN + "=postgresql://jobs:" + secret + "@127.0.0.1:1/app?sslmode=disable"}, []string{"queues", "list"}},
		{"bad port", nil, []string{"jobs", "list", "--dsn", "postgres://jobs:" + secret + "@127.0.0.1:port/app"}},
		{"password parameter", nil, []string{"stats", "--dsn", "postgres://jobs@127.0.0.1:1/app?sslmode=disable&password=" + secret}},
		{"key=value", nil, []string{"stats", "--dsn", "host=127.0.0.1 password=" + secret}},
		{"DSN as an argument", nil, []string{"jobs", "show", "postgres://jobs:" + secret + "@127.0.0.1:1/app"}},
		{"DSN as a flag value", []string{envDSN + "=postgres://jobs:" + secret + "@127.0.0.1:1/app"}, []string{"jobs", "list", "--state", "postgres://jobs:" + secret + "@db/app"}},
		{"bad schema", nil, []string{"stats", "--dsn", "postgres://jobs:" + secret + "@127.0.0.1:1/app", "--schema", "bad schema"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := ctl(t, tc.env, tc.args...)
			if r.code == 0 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "jobgenctl: ") {
				t.Fatalf("want one error line: %+v", r)
			}
			for _, s := range []string{secret, "s3cr@t-pw", "s3cr"} {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Fatalf("the output shows the password:\n%s%s", r.stdout, r.stderr)
				}
			}
			t.Log(r.stderr)
		})
	}
}

// TestRedactor checks each spelling of a password the redactor removes.
func TestRedactor(t *testing.T) {
	t.Parallel()
	var r redactor
	r.add("postgres://jobs:p%40ss@db:5432/app?password=other")
	for in, want := range map[string]string{
		"connect postgres://jobs:p%40ss@db:5432/app failed": "connect postgres://jobs:xxxxx@db:5432/app failed",
		"password p@ss was wrong":                           "password xxxxx was wrong",
		"postgresql://u:anything@h/db":                      "postgresql://u:xxxxx@h/db",
		"dial: password=hunter2 host=db":                    "dial: password=xxxxx host=db",
		"other and p%40ss":                                  "xxxxx and xxxxx",
		"no secret here":                                    "no secret here",
	} {
		if got := r.apply(in); got != want {
			t.Errorf("apply(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHelp prints the overview and every command's help, each with
// examples, on stdout and with exit status 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r := ctl(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Commands:") || !strings.Contains(r.stdout, "jobs retry") {
			t.Fatalf("jobgenctl %s: %+v", args, r)
		}
	}
	for _, c := range commands {
		words := strings.Fields(c.name)
		for _, args := range [][]string{append([]string{"help"}, words...), append(words, "-h"), append(words, "--help")} {
			r := ctl(t, nil, args...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: jobgenctl "+c.name+" [flags]") ||
				!strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "-dsn") || r.stderr != "" {
				t.Fatalf("jobgenctl %s: %+v", strings.Join(args, " "), r)
			}
		}
	}
	for _, group := range []string{"migrate", "jobs", "queues"} {
		r := ctl(t, nil, group, "-h")
		if r.code != 0 || !strings.Contains(r.stdout, "Commands of jobgenctl "+group) {
			t.Fatalf("jobgenctl %s -h: %+v", group, r)
		}
		requireFailure(t, ctl(t, nil, group), 2, "missing subcommand", nil)
	}
	requireFailure(t, ctl(t, nil), 2, "no command", nil)
	requireFailure(t, ctl(t, nil, "frobnicate"), 2, `unknown command "frobnicate"`, nil)
	requireFailure(t, ctl(t, nil, "help", "frobnicate"), 2, `unknown command "frobnicate"`, nil)
	// The DSN in the environment stays out of the help.
	r := ctl(t, []string{envDSN + "=postgres://u:hunter2@h/db"}, "jobs", "list", "-h")
	if r.code != 0 || strings.Contains(r.stdout, "hunter2") {
		t.Fatalf("jobs list -h with %s set: %+v", envDSN, r)
	}
}

// TestNoCgo builds jobgenctl without cgo: it still builds, and says that
// SQLite needs cgo.
func TestNoCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds jobgenctl a second time")
	}
	t.Parallel()
	nocgo := filepath.Join(t.TempDir(), "jobgenctl")
	cmd := exec.Command("go", "build", "-o", nocgo, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	path := filepath.Join(t.TempDir(), "jobs.db")
	for _, args := range [][]string{{"migrate", "up", "--dsn", path}, {"migrate", "status", "--dsn", path}} {
		if args[1] == "status" {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		requireFailure(t, ctlBin(t, nocgo, nil, args...), 1, "the SQLite backend needs cgo", args)
	}
}
