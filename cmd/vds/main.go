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
//	vds key     rotate [-owner A,…] [-json]     a new owner signing key, handed over in the state chain; prints the old and new key ids
//	vds signer  keygen -key F | serve -key F -socket P   the owner's signing key in its own process (setup/owner -signer unix:P)
//	vds owner    serve [-dir DIR] [-listen A] [-storage A,…] [-verifier A,…] [-token-file F] [-insecure]
//	vds storage  serve [-dir DIR] [-listen A]
//	vds verifier serve [-dir DIR] [-listen A] [-owner A] [-storage A,…]
//	vds start | stop   [-dir DIR]               the three servers in the background
//	vds ingest  -file F.csv -stream S [-cols c1,c2] [-time-format F] [-tz Z]   CSV → batches (through the owner)
//	vds ingest  -follow [-file F.csv] -stream S [-rows N] [-every 1h]    live rows (a followed file or stdin) → append_rows
//	vds query   -stream S -kind window -cols c1,c2 -tfrom 2010-02-01 -tto 2010-03-01
//	vds query   -stream S -kind point -cols c1 -at 2010-02-01T13:00:00Z
//	vds query   -batch ID -kind point|range|window|weighted -cols c1,c2 …
//	vds audit   -batch ID -cols c1
//	vds revoke  -batch ID
//	vds update  -batch ID -file F.csv [-dry-run]
//	vds state | list | version
//	vds health  [URL]                           GET a server's /readyz (default http://127.0.0.1:9090/readyz): exit 0 if 2xx
//	vds web     [-listen A] [-keys DIR] [-storage URL]   the browser dashboard (storage serve -cors-origin http://A)
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
// The owner's mutations (create_batch, revoke_batch, update_batch, refresh,
// rotate_key)
// need the owner's credentials: on a Unix socket its mode 0600 is the
// check; over TCP the owner accepts the bearer token of DIR/owner.token
// (written by setup, replaced by `vds token rotate`) and, with -tls-dir, a
// client certificate of the CA. Without either it refuses to start unless
// given -insecure. The commands that call the mutations (ingest, revoke,
// update, key rotate) send the token from the same file.
//
// The subcommands live in internal/cli; main only wires them: the table
// below names each one and the function that runs it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vdsproject/vds/internal/cli"
)

// commands are the subcommands in the order `vds -h` lists them: one line
// each, the name, its help line and the function that runs it.
var commands = []cli.Command{
	{Name: "setup", Help: "generate the CRS and the owner's keys into a data directory", Run: cli.RunSetup},
	{Name: "crs", Help: "CRS ceremony: init, contribute, verify (then setup -crs FILE)", Run: cli.RunCRS},
	{Name: "owner", Help: "owner serve: run the data owner's server", Run: cli.RunOwner},
	{Name: "storage", Help: "storage serve: run the storage server", Run: cli.RunStorage},
	{Name: "verifier", Help: "verifier serve: run the verifier's server", Run: cli.RunVerifier},
	{Name: "signer", Help: "signer keygen|serve: the owner's signing key in a separate process (owner -signer unix:PATH)", Run: cli.RunSigner},
	{Name: "token", Help: "token rotate: replace the owner's bearer token", Run: cli.RunToken},
	{Name: "key", Help: "key rotate: a new owner signing key, handed over in the signed state chain", Run: cli.RunKey},
	{Name: "start", Help: "start the three servers in the background", Run: cli.RunStart},
	{Name: "stop", Help: "stop the servers started by start", Run: cli.RunStop},
	{Name: "ingest", Help: "turn a CSV file into batches of a stream (-follow: live rows, as they come)", Run: cli.RunIngest},
	{Name: "query", Help: "ask a verified point, range, window or weighted query", Run: cli.RunQuery},
	{Name: "audit", Help: "audit a batch with a fresh nonce", Run: cli.RunAudit},
	{Name: "revoke", Help: "revoke a batch", Run: cli.RunRevoke},
	{Name: "update", Help: "replace a batch by a new version from a CSV file", Run: cli.RunUpdate},
	{Name: "state", Help: "show the owner's signed state and the servers' epochs", Run: cli.RunState},
	{Name: "list", Help: "list the stored batches", Run: cli.RunList},
	{Name: "web", Help: "serve the browser dashboard that verifies every answer in the page", Run: cli.RunWeb},
	{Name: "demo", Help: "run the whole story on a small system and explain it", Run: cli.RunDemo},
	{Name: "version", Help: "print the version of vds, of Go and of the SPEC", Run: cli.RunVersion},
	{Name: "health", Help: "probe a server's /healthz or /readyz (container health checks)", Run: cli.RunHealth},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, commands, os.Args[1:])
	stop()
	os.Exit(code)
}
