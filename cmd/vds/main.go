// Command vds runs the roles of verifiable data streaming as servers and
// talks to them: set up a deployment, serve the data owner, the storage
// server and the verifier, ingest CSV data, query and audit with verified
// answers, revoke and update batches — or run the whole story with
// `vds demo`.
//
// Usage:
//
//	vds setup   [-dir DIR] [-n N] [-tls] [-crs T] CRS (or a ceremony's), owner keys, owner token (and a dev TLS PKI) into DIR
//	            [-if-missing] [-public-dir P]   keep an existing set-up; copy the public files to P
//	vds crs     init|contribute|verify          the CRS ceremony: no single party knows the trapdoor
//	vds token   rotate [-dir DIR]               a new owner token; the old one stops working
//	vds owner    serve [-dir DIR] [-listen A] [-storage A,…] [-verifier A,…] [-token-file F] [-insecure]
//	vds storage  serve [-dir DIR] [-listen A]
//	vds verifier serve [-dir DIR] [-listen A] [-owner A] [-storage A,…]
//	vds start | stop   [-dir DIR]               the three servers in the background
//	vds ingest  -file F.csv -stream S [-cols c1,c2] [-time-format F] [-tz Z]   CSV → batches (through the owner)
//	vds query   -stream S -kind window -cols c1,c2 -tfrom 2010-02-01 -tto 2010-03-01
//	vds query   -stream S -kind point -cols c1 -at 2010-02-01T13:00:00Z
//	vds query   -batch ID -kind point|range|window|weighted -cols c1,c2 …
//	vds audit   -batch ID -cols c1
//	vds revoke  -batch ID
//	vds update  -batch ID -file F.csv [-dry-run]
//	vds state | list | version
//	vds health  [URL]                           GET a server's /readyz (default http://127.0.0.1:9090/readyz): exit 0 if 2xx
//	vds demo    [-inproc]                       the whole story, explained
//
// A batch ID may be a unique prefix of at least 8 hex digits. query,
// audit, list, state, ingest and version take -json (one JSON document on
// stdout). Exit codes: 0 verified, 1 rejected by verification, 2 usage, 3 a
// server unreachable, 4 invalid input (see `vds -h`).
//
// Addresses are host:port, http(s)://host:port or unix:///path. -storage
// (env VDS_STORAGE) may list several storage replicas that share one
// database, comma-separated: every command and server that calls the
// storage server sends each call to the replica that answered last and
// fails over to the next when one is unreachable (transport.Failover). The
// prototype's environment variables keep their meaning: DO_HOST, DO_PORT
// (owner, default 5001), SS_HOST, SS_PORT (storage, 5002), VERIFIER_HOST,
// VERIFIER_PORT (verifier, 5003), VECTOR_DIM (batch capacity for setup,
// 1024); VDS_DIR is the data directory, VDS_TLS_DIR a TLS directory
// written by `vds setup -tls` and VDS_TOKEN_FILE the owner's token file
// (default DIR/owner.token). Flags win over the environment.
//
// The owner's mutations (create_batch, revoke_batch, update_batch, refresh)
// need the owner's credentials: on a Unix socket its mode 0600 is the
// check; over TCP the owner accepts the bearer token of DIR/owner.token
// (written by setup, replaced by `vds token rotate`) and, with -tls-dir, a
// client certificate of the CA. Without either it refuses to start unless
// given -insecure. The commands that call the mutations (ingest, revoke,
// update) send the token from the same file.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"unicode"
)

type command struct {
	name  string
	help  string
	run   func(ctx context.Context, args []string) error
	serve bool // a long-running server
}

func commands() []command {
	return []command{
		{name: "setup", help: "generate the CRS and the owner's keys into a data directory", run: runSetup},
		{name: "crs", help: "CRS ceremony: init, contribute, verify (then setup -crs FILE)", run: runCRS},
		{name: "owner", help: "owner serve: run the data owner's server", run: runOwner, serve: true},
		{name: "storage", help: "storage serve: run the storage server", run: runStorage, serve: true},
		{name: "verifier", help: "verifier serve: run the verifier's server", run: runVerifier, serve: true},
		{name: "token", help: "token rotate: replace the owner's bearer token", run: runToken},
		{name: "start", help: "start the three servers in the background", run: runStart},
		{name: "stop", help: "stop the servers started by start", run: runStop},
		{name: "ingest", help: "turn a CSV file into batches of a stream", run: runIngest},
		{name: "query", help: "ask a verified point, range, window or weighted query", run: runQuery},
		{name: "audit", help: "audit a batch with a fresh nonce", run: runAudit},
		{name: "revoke", help: "revoke a batch", run: runRevoke},
		{name: "update", help: "replace a batch by a new version from a CSV file", run: runUpdate},
		{name: "state", help: "show the owner's signed state and the servers' epochs", run: runState},
		{name: "list", help: "list the stored batches", run: runList},
		{name: "demo", help: "run the whole story on a small system and explain it", run: runDemo},
		{name: "version", help: "print the version of vds, of Go and of the SPEC", run: runVersion},
		{name: "health", help: "probe a server's /healthz or /readyz (container health checks)", run: runHealth},
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: vds <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", c.name, c.help)
	}
	fmt.Fprintln(os.Stderr, "\nRun vds <command> -h for its flags.\n\n"+exitCodesHelp)
}

func main() {
	if len(os.Args) < 2 || isHelp(os.Args[1]) || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(exitUsage)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands() {
		if c.name == os.Args[1] {
			err := c.run(ctx, os.Args[2:])
			code := exitCode(err)
			switch {
			case err == nil, errors.Is(err, errHelp):
				code = exitOK
			case errors.Is(err, errUsage):
			case rejected(err):
				fmt.Fprintln(os.Stderr, "vds "+c.name+": REJECTED:", safeText(err.Error()))
			default:
				fmt.Fprintln(os.Stderr, "vds "+c.name+":", safeText(err.Error()))
			}
			stop()
			os.Exit(code)
		}
	}
	fmt.Fprintf(os.Stderr, "vds: unknown command %q\n\n", os.Args[1])
	usage()
	os.Exit(exitUsage)
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
