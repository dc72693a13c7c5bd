package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vdsproject/vds/transport"
)

// env returns the environment variable or a default.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// serverRole is one of the three servers: its name, the prefix of its
// environment variables (PREFIX_HOST, PREFIX_PORT, PREFIX_METRICS), its
// default port and its service.
type serverRole struct{ name, env, port, service string }

// The three servers.
var (
	storageRole  = serverRole{"storage", "SS", "5002", transport.ServiceStorage}
	verifierRole = serverRole{"verifier", "VERIFIER", "5003", transport.ServiceVerifier}
	ownerRole    = serverRole{"owner", "DO", "5001", transport.ServiceOwner}
)

// serverRoles are the three servers in start order: the storage server
// first, the owner last (it pushes to both).
var serverRoles = []serverRole{storageRole, verifierRole, ownerRole}

// defaultAddr builds the prototype's address of a role from its
// environment variables (DO_HOST/DO_PORT, SS_…, VERIFIER_…).
func (r serverRole) defaultAddr() string {
	return env(r.env+"_HOST", "127.0.0.1") + ":" + env(r.env+"_PORT", r.port)
}

// common holds the flags every subcommand but crs and health shares: the
// data directory, the servers' addresses, TLS, the owner's token, logs.
type common struct {
	fs     *flag.FlagSet
	dir    string
	tlsDir string
	// tlsRole is the role whose certificate of -tls-dir the command
	// presents: a server's own, "" (admin) for the other commands.
	tlsRole  string
	owner    string
	storage  string
	verifier string
	logJSON  bool
	// tokenFile is -token-file (env VDS_TOKEN_FILE); "" means
	// DIR/owner.token.
	tokenFile string
	// metricsAddr is each role's -metrics address for the servers start
	// spawns ("" or absent: none).
	metricsAddr map[string]string
	// metricsTLS is each role's -metrics-tls and signer the owner's
	// -signer, for the servers start spawns ("" passes nothing).
	metricsTLS map[string]string
	signer     string
	// onFailover, if set, is called at each fail-over of the storage
	// client dialStorage returns.
	onFailover func(from, to string, err error)
}

func newCommon(name string) *common {
	c := &common{fs: flag.NewFlagSet("vds "+name, flag.ContinueOnError)}
	c.fs.StringVar(&c.dir, "dir", env("VDS_DIR", "vds-data"), "data directory (env VDS_DIR)")
	c.fs.StringVar(&c.tlsDir, "tls-dir", env("VDS_TLS_DIR", ""), "TLS directory from `vds setup -tls`: servers use TLS with client certificates (mTLS) and their role's certificate (ROLE.pem), other commands present admin.pem (env VDS_TLS_DIR)")
	c.fs.StringVar(&c.owner, "owner", ownerRole.defaultAddr(), "owner address (env DO_HOST, DO_PORT)")
	c.fs.StringVar(&c.storage, "storage", env("VDS_STORAGE", storageRole.defaultAddr()), "storage server address, or a comma-separated list of replicas sharing one database: calls fail over to the next when one is unreachable (env VDS_STORAGE, or SS_HOST, SS_PORT)")
	c.fs.StringVar(&c.verifier, "verifier", verifierRole.defaultAddr(), "verifier address (env VERIFIER_HOST, VERIFIER_PORT)")
	c.fs.BoolVar(&c.logJSON, "log-json", false, "log JSON lines instead of text")
	c.fs.StringVar(&c.tokenFile, "token-file", env("VDS_TOKEN_FILE", ""), "the owner's bearer token file (env VDS_TOKEN_FILE; default DIR/"+ownerTokenFile+")")
	return c
}

// parse parses the flags; arguments other than flags are a usage error.
func (c *common) parse(args []string) error { return parseNoArgs(c.fs, args) }

// parseFlags parses args: -h is errHelp, a bad flag (printed by the flag
// package) errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	return nil
}

// parseNoArgs is parseFlags for a subcommand that takes flags only.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "vds: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	return nil
}

// subcommand checks that args start with sub (`vds owner serve`, `vds
// token rotate`) and returns the arguments after it; otherwise it prints
// usage and returns errHelp for -h, else errUsage.
func subcommand(args []string, sub, usage string) ([]string, error) {
	if len(args) == 0 || args[0] != sub {
		fmt.Fprintln(os.Stderr, usage)
		if len(args) > 0 && isHelp(args[0]) {
			return nil, errHelp
		}
		return nil, errUsage
	}
	return args[1:], nil
}

// jsonFlag adds -json.
func (c *common) jsonFlag() *bool {
	return c.fs.Bool("json", false, "print one JSON document")
}

// batchHelp is the help of -batch where it names the batch to ask.
const batchHelp = "batch id (hex), or a unique prefix of at least 8 hex digits"

// batchFlag adds -batch.
func (c *common) batchFlag(help string) *string { return c.fs.String("batch", "", help) }

// windowFlags adds -tfrom and -tto, their help starting with what: the
// window's first and last times.
func (c *common) windowFlags(what string) (tfrom, tto *string) {
	tfrom = c.fs.String("tfrom", "", what+": first time (inclusive)")
	tto = c.fs.String("tto", "", what+": last time (inclusive; a bare date means the end of the day before)")
	return tfrom, tto
}

// capacityFlag adds -n, the CRS capacity (env VECTOR_DIM, default 1024).
func capacityFlag(fs *flag.FlagSet) *int {
	defN, _ := strconv.Atoi(env("VECTOR_DIM", "1024"))
	return fs.Int("n", defN, "batch capacity: rows per batch (env VECTOR_DIM)")
}

// quietFlag adds -q, which turns the progress output off.
func quietFlag(fs *flag.FlagSet) *bool { return fs.Bool("q", false, "no progress bar") }

func (c *common) path(p string) string { return filepath.Join(c.dir, p) }

// logger returns the structured logger of servers.
func (c *common) logger(role string) *slog.Logger {
	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if c.logJSON {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	return slog.New(h).With("role", role)
}

// usageErrorf prints a usage message and returns errUsage (exit 2).
func usageErrorf(format string, a ...any) error {
	fmt.Fprintf(os.Stderr, "vds: "+format+"\n", a...)
	return errUsage
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitListOrNil is splitList, nil for an empty list.
func splitListOrNil(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return splitList(s)
}
