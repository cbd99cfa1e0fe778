package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/postgres"
	"github.com/jobgen/jobgen/runtime/storage/sqlite"
)

// envDSN is the environment variable that holds the DSN when --dsn is not given.
const envDSN = "JOBGEN_DSN"

// connFlags name the database; every command takes them.
type connFlags struct {
	dsn, schema, prefix string
}

// register adds the flags to fs. The DSN's default is not shown, so help
// never prints a password from the environment.
func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dsn, "dsn", "", "the database: a PostgreSQL URL (postgres://… or postgresql://…) or a SQLite file path, optionally written sqlite:path (default $"+envDSN+")")
	fs.StringVar(&c.schema, "schema", "", "PostgreSQL: the schema that holds jobgen's tables (default public)")
	fs.StringVar(&c.prefix, "table-prefix", "", "PostgreSQL: the prefix of jobgen's table names")
}

// The backends a DSN can name.
const (
	backendPostgres = "postgres"
	backendSQLite   = "sqlite"
)

// target is a parsed DSN: which backend, and where.
type target struct {
	backend string
	// url is the PostgreSQL URL as given.
	url string
	// opts are the PostgreSQL options (schema and table prefix).
	opts *postgres.Options
	// path is the SQLite file.
	path string
}

// target parses the DSN of c (or of the environment) and records its
// secrets, so no message shows them.
func (a *app) target(c *connFlags) (*target, error) {
	dsn := c.dsn
	if dsn == "" {
		dsn = a.getenv(envDSN)
	}
	if dsn == "" {
		return nil, usagef("no database: give --dsn or set %s", envDSN)
	}
	a.redact.add(dsn)
	lower := strings.ToLower(dsn)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		opts := &postgres.Options{Schema: c.schema, TablePrefix: c.prefix}
		if _, err := postgres.Migrations(opts); err != nil { // validates the names as the store will
			return nil, usagef("%v", err)
		}
		return &target{backend: backendPostgres, url: dsn, opts: opts}, nil
	case keyValueDSN.MatchString(dsn):
		return nil, usagef("a key=value DSN is not supported: give a PostgreSQL URL (postgres://user@host:5432/db) or a SQLite file path")
	case strings.Contains(dsn, "://"):
		scheme, _, _ := strings.Cut(dsn, "://")
		return nil, usagef("unknown DSN scheme %q: want postgres://, postgresql://, sqlite: or a file path", scheme)
	}
	path := dsn
	if strings.HasPrefix(lower, "sqlite:") {
		path = dsn[len("sqlite:"):]
	}
	if path == "" {
		return nil, usagef("empty SQLite path in DSN %q", dsn)
	}
	if c.schema != "" || c.prefix != "" {
		return nil, usagef("--schema and --table-prefix are PostgreSQL options; %s is a SQLite file", path)
	}
	return &target{backend: backendSQLite, path: path}, nil
}

// keyValueDSN matches the start of a libpq key=value connection string.
var keyValueDSN = regexp.MustCompile(`^\s*[a-z_]+\s*=`)

// where names the target's tables for messages, without secrets.
func (t *target) where() string {
	if t.backend == backendSQLite {
		return t.path
	}
	w := "schema " + cmp.Or(t.opts.Schema, "public")
	if t.opts.TablePrefix != "" {
		w += " (table prefix " + t.opts.TablePrefix + ")"
	}
	return w
}

// latest is the schema version this jobgenctl migrates to.
func (t *target) latest() int {
	if t.backend == backendSQLite {
		return sqlite.SchemaVersion()
	}
	return postgres.SchemaVersion
}

// sqliteVersion returns the schema version of the SQLite file, which must
// exist: jobgenctl creates a database only with migrate up.
func (t *target) sqliteVersion(ctx context.Context) (int, error) {
	if _, err := os.Stat(t.path); errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("SQLite database %s does not exist (jobgenctl migrate up creates it)", t.path)
	} else if err != nil {
		return 0, err
	}
	return sqlite.DatabaseVersion(ctx, t.path)
}

// connect opens the PostgreSQL store over a pool of its own, without
// migrating or checking the schema, and returns it with the function that
// closes both.
func (t *target) connect(ctx context.Context) (*postgres.Store, func(), error) {
	cfg, err := pgxpool.ParseConfig(t.url)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s, err := postgres.New(pool, t.opts)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return s, func() { s.Close(); pool.Close() }, nil
}

// openCurrent opens the store of an existing database at the schema
// version of this jobgenctl, which it never migrates: an older database
// needs migrate up first (an application of the older version would
// refuse the upgraded schema), a newer one a newer jobgenctl. It returns
// the function that closes the store.
func (t *target) openCurrent(ctx context.Context) (storage.Storage, func(), error) {
	if t.backend == backendSQLite {
		v, err := t.sqliteVersion(ctx)
		if err != nil {
			return nil, nil, err
		}
		if err := t.checkVersion(v); err != nil {
			return nil, nil, err
		}
		s, err := sqlite.Open(t.path, nil)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	}
	s, done, err := t.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.DatabaseVersion(ctx)
	if err == nil {
		err = t.checkVersion(v)
	}
	if err != nil {
		done()
		return nil, nil, err
	}
	return s, done, nil
}

// checkVersion fails unless v is the schema version of this jobgenctl.
func (t *target) checkVersion(v int) error {
	switch latest := t.latest(); {
	case v < latest:
		return fmt.Errorf("%s is at schema version %d, this jobgenctl needs %d: run jobgenctl migrate up", t.where(), v, latest)
	case v > latest:
		return fmt.Errorf("%s is at schema version %d, migrated by a newer jobgen; this jobgenctl knows up to %d: use a newer jobgenctl", t.where(), v, latest)
	}
	return nil
}

// client opens the database of c and returns a detached client over it,
// and the function that closes both.
func (a *app) client(ctx context.Context, c *connFlags) (*runtime.Client, func(), error) {
	t, err := a.target(c)
	if err != nil {
		return nil, nil, err
	}
	store, closeStore, err := t.openCurrent(ctx)
	if err != nil {
		return nil, nil, err
	}
	cl, err := runtime.NewClient(store, runtime.ClientConfig{Logger: slog.New(slog.NewTextHandler(a.stderr, nil))})
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	return cl, func() { cl.Close(); closeStore() }, nil
}

// report sets up a command that takes no arguments and prints what show
// reads through a client of the database: it registers the connection
// flags and --json, refuses arguments, opens the client and closes it
// after show.
func report(a *app, fs *flag.FlagSet, show func(ctx context.Context, cl *runtime.Client, json bool) error) func(context.Context, []string) error {
	var c connFlags
	var o outFlags
	c.register(fs)
	o.register(fs)
	return func(ctx context.Context, args []string) error {
		if err := noArgs(args); err != nil {
			return err
		}
		cl, done, err := a.client(ctx, &c)
		if err != nil {
			return err
		}
		defer done()
		return show(ctx, cl, o.json)
	}
}

// mask replaces every secret in messages.
const mask = "xxxxx"

// redactor removes the secrets of DSNs from messages: the passwords it
// was given, in every spelling the DSN had, and anything shaped like a
// URL's password or a password= setting.
type redactor struct {
	secrets []string
}

// The shapes of passwords redact removes even when no DSN named them.
var (
	urlPassword   = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:@/\s]*:)[^@\s]*@`)
	paramPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|[^\s&]+)`)
)

// add records the password of dsn, if it has one.
func (r *redactor) add(dsn string) {
	if m := urlPassword.FindStringSubmatchIndex(dsn); m != nil {
		raw := dsn[m[3] : m[1]-1] // between "user:" and "@"
		r.secrets = append(r.secrets, raw)
		if p, err := url.PathUnescape(raw); err == nil {
			r.secrets = append(r.secrets, p, url.QueryEscape(p))
		}
	}
	if _, query, ok := strings.Cut(dsn, "?"); ok {
		if vs, err := url.ParseQuery(query); err == nil {
			for _, p := range vs["password"] {
				r.secrets = append(r.secrets, p, url.QueryEscape(p))
			}
		}
	}
}

// apply returns s without the secrets.
func (r *redactor) apply(s string) string {
	for _, secret := range r.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, mask)
		}
	}
	s = urlPassword.ReplaceAllString(s, "${1}"+mask+"@")
	return paramPassword.ReplaceAllString(s, "${1}"+mask)
}
