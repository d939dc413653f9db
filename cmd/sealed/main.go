// Command sealed manages the keys of github.com/sealedgo/sealed and opens
// session cookies for debugging. Run "sealed help" for the subcommands.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// Exit codes.
const (
	exitOK    = 0 // success
	exitFail  = 1 // the operation failed: a cookie does not open, a file is unreadable, ...
	exitUsage = 2 // bad command line
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

const overview = `sealed manages the keys of github.com/sealedgo/sealed sessions and opens
session cookies for debugging.

Usage:

	sealed <command> [flags] [arguments]

Commands:

	keygen    print a JWK Set holding one fresh key
	rotate    add a new primary key to a JWK Set file, optionally retiring old keys
	inspect   open a session cookie read from stdin and print it as JSON
	version   print the version of this program and of Go
	help      print this overview, or "sealed help <command>" for one command

Keys are secrets and cookies are credentials: neither is ever taken as a
command-line argument (which other users can see in the process list) and
neither is ever printed, except that keygen prints the new key set.

Exit status: 0 on success, 1 when the operation fails, 2 on a usage error.

Example:

	(umask 077 && sealed keygen > keys.json)
	sealed rotate --keep 3 keys.json
	sealed inspect --keys keys.json < cookie.txt
`

// command is one subcommand. It gets the arguments after its name.
type command struct {
	run func(c *cli, args []string) int
	// usage is the subcommand's help text, flags included.
	usage func() string
}

var commands = map[string]command{
	"keygen":  subcommand("keygen", keygenFlags, (*cli).keygen, keygenHead, keygenTail),
	"rotate":  subcommand("rotate", rotateFlags, (*cli).rotate, rotateHead, rotateTail),
	"inspect": subcommand("inspect", inspectFlags, (*cli).inspect, inspectHead, inspectTail),
	"version": subcommand("version", nil, (*cli).version, versionHead, ""),
}

// subcommand makes a command whose flags (nil for none) set the fields of
// an O. run gets them parsed, with the flag set (to tell a flag given
// empty from one not given) and the positional arguments.
func subcommand[O any](name string, flags func(*flag.FlagSet, *O), run func(*cli, *O, *flag.FlagSet, []string) int, head, tail string) command {
	newFlags := func(o *O) *flag.FlagSet {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		if flags != nil {
			flags(fs, o)
		}
		return fs
	}
	usage := func() string { return usageOf(newFlags(new(O)), head, tail) }
	return command{
		usage: usage,
		run: func(c *cli, args []string) int {
			var o O
			fs := newFlags(&o)
			pos, code, done := c.parseFlags(fs, usage, args)
			if done {
				return code
			}
			return run(c, &o, fs, pos)
		},
	}
}

// cli carries the process environment through a run, so that tests can
// drive run without touching the real one.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) string
}

// run is the whole program: main only supplies the process's arguments,
// streams and environment, and exits with the result.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if env == nil {
		env = func(string) string { return "" }
	}
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	if len(args) == 0 {
		fmt.Fprint(stderr, overview)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if name == "help" && len(rest) > 0 {
			cmd, ok := commands[rest[0]]
			if !ok {
				return c.usageError("help: unknown command %q (commands: keygen, rotate, inspect, version)", rest[0])
			}
			fmt.Fprint(stdout, cmd.usage())
			return exitOK
		}
		fmt.Fprint(stdout, overview)
		return exitOK
	}
	cmd, ok := commands[name]
	if !ok {
		return c.usageError("unknown command %q (run 'sealed help' for the list)", name)
	}
	return cmd.run(c, rest)
}

// usageError prints a one-line usage error and returns exitUsage.
func (c *cli) usageError(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "sealed: "+format+"\n", a...)
	return exitUsage
}

// fail prints a one-line error and returns exitFail.
func (c *cli) fail(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "sealed: "+format+"\n", a...)
	return exitFail
}

// warn prints a one-line warning.
func (c *cli) warn(format string, a ...any) {
	fmt.Fprintf(c.stderr, "sealed: warning: "+format+"\n", a...)
}

// msg renders err for a "sealed: " line: the library already prefixes its
// errors with "sealed: ", which is dropped here so that it is not said
// twice. A JSON syntax error is reduced to its offset, since its message
// quotes a character of the input, which may be part of a secret.
func msg(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("not a JWK Set: invalid JSON at byte offset %d", syn.Offset)
	}
	s := err.Error()
	for strings.HasPrefix(s, "sealed: ") {
		s = strings.TrimPrefix(s, "sealed: ")
	}
	return s
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("rotate keys.json --keep 3") unless they follow "--". It
// returns the positional arguments, or an exit code (with the message
// printed) when parsing ends the run: 0 for --help, 2 for a bad flag.
func (c *cli) parseFlags(fs *flag.FlagSet, usage func() string, args []string) (pos []string, code int, done bool) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(c.stdout, usage())
				return nil, exitOK, true
			}
			return nil, c.usageError("%s: %v (see 'sealed %s --help')", fs.Name(), err, fs.Name()), true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, false
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), 0, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageOf assembles a subcommand's help: head, the flags, then tail.
func usageOf(fs *flag.FlagSet, head, tail string) string {
	var b strings.Builder
	b.WriteString(head)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nFlags:\n\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if tail != "" {
		b.WriteString("\n")
		b.WriteString(tail)
	}
	return b.String()
}

const versionHead = `Usage: sealed version

Prints the version of the sealed module this program was built from
("(devel)" when built from a source checkout) and the Go version.

Example:

	sealed version
`

func (c *cli) version(_ *struct{}, _ *flag.FlagSet, pos []string) int {
	if len(pos) > 0 {
		return c.usageError("version: unexpected argument %q", pos[0])
	}
	v, goVersion := "unknown", runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		if v == "" {
			v = "(devel)"
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		if v == "(devel)" {
			var rev, modified string
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					if s.Value == "true" {
						modified = "+dirty"
					}
				}
			}
			if rev != "" {
				v += " " + rev + modified
			}
		}
	}
	fmt.Fprintf(c.stdout, "sealed %s %s\n", v, goVersion)
	return exitOK
}
