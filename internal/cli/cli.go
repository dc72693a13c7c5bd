// Package cli is the vds command: its subcommands, their flags, and the
// dispatcher that runs one and turns its error into an exit code. The
// command's usage is in the documentation of cmd/vds, whose main calls
// Main with the table of subcommands.
//
// Each subcommand is a Run function (RunSetup, RunQuery, …) with the
// signature of Command.Run; it reads its flags from args, writes its
// output on os.Stdout and its diagnostics on os.Stderr, and returns an
// error that Main maps to the exit codes of `vds -h`.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// Command is a subcommand of vds: `vds Name args…` calls Run(ctx, args).
type Command struct {
	Name string // what follows vds on the command line
	Help string // one line for `vds -h`
	// Run runs the subcommand with the arguments after its name; ctx ends
	// at SIGINT or SIGTERM.
	Run func(ctx context.Context, args []string) error
}

// Main runs the command of cmds that args[0] names with args[1:], prints
// its error (as "REJECTED: …" for a verification failure) on os.Stderr, and
// returns the exit code of `vds -h`. No arguments, -h or help print the
// usage, which lists cmds in their order.
func Main(ctx context.Context, cmds []Command, args []string) int {
	if len(args) < 1 || isHelp(args[0]) || args[0] == "help" {
		usage(cmds)
		if len(args) < 1 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range cmds {
		if c.Name != args[0] {
			continue
		}
		err := c.Run(ctx, args[1:])
		code := exitCode(err)
		switch {
		case err == nil, errors.Is(err, errHelp):
			code = exitOK
		case errors.Is(err, errUsage):
		case rejected(err):
			fmt.Fprintln(os.Stderr, "vds "+c.Name+": REJECTED:", safeText(err.Error()))
		default:
			fmt.Fprintln(os.Stderr, "vds "+c.Name+":", safeText(err.Error()))
		}
		return code
	}
	fmt.Fprintf(os.Stderr, "vds: unknown command %q\n\n", args[0])
	usage(cmds)
	return exitUsage
}

func usage(cmds []Command) {
	fmt.Fprintln(os.Stderr, "usage: vds <command> [flags]\n\ncommands:")
	for _, c := range cmds {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", c.Name, c.Help)
	}
	fmt.Fprintln(os.Stderr, "\nRun vds <command> -h for its flags.\n\n"+exitCodesHelp)
}

// errUsage reports bad flags (already printed); errHelp, -h (exit 0).
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

// isHelp reports whether an argument asks for help.
func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// safeText escapes every character of s that could act on a terminal
// (control, format and bidirectional characters; invalid UTF-8): error
// messages can carry text from a remote peer.
func safeText(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsPrint(r) || r == '\n' || r == '\t' {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
