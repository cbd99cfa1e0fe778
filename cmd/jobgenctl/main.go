package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/jobgen/jobgen/runtime"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &app{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// app is what every command runs with: where it writes, its environment,
// and the secrets every message must leave out.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	redact         redactor
}

// command is one command of jobgenctl: "stats", or a group's subcommand
// such as "jobs list".
type command struct {
	// name is the command's words after "jobgenctl".
	name string
	// args is the usage line's part after the name and "[flags]".
	args string
	// summary is the one line "jobgenctl help" shows.
	summary string
	// help is the longer text of "jobgenctl help <name>", examples included.
	help string
	// setup registers the command's flags on fs and returns the function
	// that runs it with the positional arguments.
	setup func(a *app, fs *flag.FlagSet) func(ctx context.Context, args []string) error
}

// commands lists every command in the order help shows them.
var commands []*command

func init() {
	commands = append(commands, migrateCommands...)
	commands = append(commands, jobsCommands...)
	commands = append(commands, queuesCommands...)
	commands = append(commands, schedulesCommands...)
	commands = append(commands, statsCommand)
}

// usageError is a command line that is wrong in itself: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run runs the command args name and returns the exit status: 0 on
// success, 2 for a wrong command line, 1 when the operation failed. Errors
// are one line on stderr, with every secret of the DSN left out.
func run(ctx context.Context, a *app, args []string) int {
	err := dispatch(ctx, a, args)
	if err == nil {
		return 0
	}
	msg := strings.Join(strings.Fields(a.redact.apply(err.Error())), " ")
	fmt.Fprintln(a.stderr, "jobgenctl: "+msg)
	if isUsage(err) {
		return 2
	}
	return 1
}

// isUsage reports whether err says the command line was wrong: bad flags
// or arguments, or values the operations refuse as invalid before doing
// anything.
func isUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue) || errors.Is(err, runtime.ErrInvalidCursor) ||
		errors.Is(err, runtime.ErrUnknownState) || errors.Is(err, runtime.ErrEmptyFilter) ||
		errors.Is(err, runtime.ErrInvalidName)
}

// dispatch finds the command args name, parses its flags and runs it.
func dispatch(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return usagef("no command (see jobgenctl help)")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(a, args[1:])
	}
	if len(args) > 1 && isHelpFlag(args[1]) && len(subcommands(args[0])) > 0 {
		return help(a, args[:1])
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("jobgenctl "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	runCmd := cmd.setup(a, fs)
	pos, err := parseFlags(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(a.stdout, cmd)
		return nil
	}
	if err != nil {
		return usagef("%s: %v (see jobgenctl help %s)", cmd.name, err, cmd.name)
	}
	if err := runCmd(ctx, pos); err != nil {
		return fmt.Errorf("%s: %w", cmd.name, err)
	}
	return nil
}

// lookup returns the command that args start with and the arguments after
// its name.
func lookup(args []string) (*command, []string, error) {
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], nil
		}
	}
	if group := subcommands(args[0]); len(group) > 0 {
		if len(args) == 1 {
			return nil, nil, usagef("%s: missing subcommand: want one of %s", args[0], names(group))
		}
		return nil, nil, usagef("%s: unknown subcommand %q: want one of %s", args[0], args[1], names(group))
	}
	return nil, nil, usagef("unknown command %q (see jobgenctl help)", args[0])
}

// isHelpFlag reports whether arg asks for help.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h":
		return true
	}
	return false
}

// subcommands returns the commands of group, such as "jobs".
func subcommands(group string) []*command {
	var out []*command
	for _, c := range commands {
		if g, _, ok := strings.Cut(c.name, " "); ok && g == group {
			out = append(out, c)
		}
	}
	return out
}

// names lists the last word of each command's name.
func names(cmds []*command) string {
	var ns []string
	for _, c := range cmds {
		ns = append(ns, c.name[strings.LastIndex(c.name, " ")+1:])
	}
	return strings.Join(ns, ", ")
}

// parseFlags parses args with flags and positional arguments in any order,
// all after "--" positional, and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// help prints the overview, a group's commands or one command's help.
func help(a *app, args []string) error {
	if len(args) == 0 {
		printOverview(a.stdout)
		return nil
	}
	name := strings.Join(args, " ")
	for _, c := range commands {
		if c.name == name {
			printHelp(a.stdout, c)
			return nil
		}
	}
	if group := subcommands(name); len(group) > 0 {
		fmt.Fprintf(a.stdout, "Commands of jobgenctl %s:\n\n", name)
		printSummaries(a.stdout, group)
		fmt.Fprintf(a.stdout, "\nRun jobgenctl help %s <command> for its flags and examples.\n", name)
		return nil
	}
	return usagef("help: unknown command %q (see jobgenctl help)", name)
}

// overview is the head of jobgenctl help.
const overview = `jobgenctl operates a jobgen job store: it migrates the schema, lists,
shows, retries, aborts and deletes jobs, pauses and resumes queues, and
counts jobs.

Usage:

	jobgenctl <command> [flags] [arguments]

Every command takes the database as --dsn or the JOBGEN_DSN environment
variable: a PostgreSQL URL (postgres://user:password@host:5432/db) or a
SQLite file path (jobs.db, optionally written sqlite:jobs.db). With
PostgreSQL, --schema and --table-prefix name where the tables are. Output
is an aligned table, or JSON with --json. The exit status is 0 on
success, 2 for a wrong command line, 1 when the operation failed.

Commands:
`

// printOverview prints jobgenctl help.
func printOverview(w io.Writer) {
	fmt.Fprint(w, overview)
	fmt.Fprintln(w)
	printSummaries(w, commands)
	fmt.Fprintln(w, "\nRun jobgenctl help <command> (or jobgenctl <command> -h) for its flags and examples.")
}

// printSummaries prints one line per command.
func printSummaries(w io.Writer, cmds []*command) {
	t := newTable(w)
	for _, c := range cmds {
		t.row("  "+c.name, c.summary)
	}
	t.flush()
}

// printHelp prints one command's usage, help, flags and examples.
func printHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: jobgenctl %s [flags]", c.name)
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintf(w, "\n\n%s\n\n%s\n\nFlags:\n", c.summary, strings.TrimSpace(c.help))
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(&app{}, fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
}
