// Command jobgenctl operates a jobgen job store from the shell: it
// migrates the schema, lists, shows, retries, aborts and deletes jobs,
// pauses and resumes queues, lists the schedules of periodic jobs, and
// counts jobs.
//
// Usage:
//
//	jobgenctl migrate up | status | sql
//	jobgenctl jobs list | show <id> | retry [<id>...] | abort [<id>...] | delete [<id>...]
//	jobgenctl queues list | pause <queue>... | resume <queue>...
//	jobgenctl schedules list
//	jobgenctl stats
//	jobgenctl help [<command>]
//
// Every command takes the database as --dsn or $JOBGEN_DSN: a PostgreSQL
// URL (postgres://… or postgresql://…, with --schema and --table-prefix)
// or a SQLite file path, optionally written sqlite:path. Only migrate up
// creates a SQLite file; the other commands need a database at the schema
// version of this jobgenctl and never migrate one. No message shows a
// password of the DSN.
//
// Output is an aligned table, or JSON with --json; jobgenctl help <command>
// names the JSON fields, which are stable. Errors are one line on stderr;
// the exit status is 2 for a wrong command line (flags, arguments, an
// unknown state, a malformed cursor, a bulk operation without --yes or a
// filterless one without --all) and 1 when the operation failed.
//
// One job id changes one job. Several ids, or a filter, make a bulk
// operation, which needs --yes (without it the command says how many jobs
// match and changes nothing); a bulk operation with neither ids nor
// filters also needs --all.
//
// jobgenctl links the SQLite backend, which needs cgo: built with
// CGO_ENABLED=0 it works with PostgreSQL and says so for a SQLite DSN.
//
// Files: main.go parses the command line and dispatches, dsn.go parses the
// DSN, opens the store and redacts secrets, output.go writes tables and
// JSON, and migrate.go, jobs.go, queues.go, schedules.go and stats.go hold
// the commands.
package main
