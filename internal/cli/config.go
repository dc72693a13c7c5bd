package cli

import (
	"bytes"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// Files of a data directory.
const (
	crsFile       = "crs.bin"
	digestFile    = "crs.digest"
	ownerKeysFile = "owner-keys.cbor"
	ownerDB       = "owner/owner.db"
	storageDB     = "storage/storage.db"
	tlsSubdir     = "tls"
)

// env returns the environment variable or a default.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// defaultAddr builds the prototype's address of a role from its
// environment variables (DO_HOST/DO_PORT, SS_…, VERIFIER_…).
func defaultAddr(prefix, port string) string {
	return env(prefix+"_HOST", "127.0.0.1") + ":" + env(prefix+"_PORT", port)
}

// common holds the flags every subcommand shares.
type common struct {
	fs       *flag.FlagSet
	dir      string
	tlsDir   string
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
	// onFailover, if set, is called at each fail-over of the storage
	// client dialStorage returns.
	onFailover func(from, to string, err error)
}

func newCommon(name string) *common {
	c := &common{fs: flag.NewFlagSet("vds "+name, flag.ContinueOnError)}
	c.fs.StringVar(&c.dir, "dir", env("VDS_DIR", "vds-data"), "data directory (env VDS_DIR)")
	c.fs.StringVar(&c.tlsDir, "tls-dir", env("VDS_TLS_DIR", ""), "TLS directory from `vds setup -tls`: servers use TLS with client certificates (mTLS), clients present theirs (env VDS_TLS_DIR)")
	c.fs.StringVar(&c.owner, "owner", defaultAddr("DO", "5001"), "owner address (env DO_HOST, DO_PORT)")
	c.fs.StringVar(&c.storage, "storage", env("VDS_STORAGE", defaultAddr("SS", "5002")), "storage server address, or a comma-separated list of replicas sharing one database: calls fail over to the next when one is unreachable (env VDS_STORAGE, or SS_HOST, SS_PORT)")
	c.fs.StringVar(&c.verifier, "verifier", defaultAddr("VERIFIER", "5003"), "verifier address (env VERIFIER_HOST, VERIFIER_PORT)")
	c.fs.BoolVar(&c.logJSON, "log-json", false, "log JSON lines instead of text")
	c.fs.StringVar(&c.tokenFile, "token-file", env("VDS_TOKEN_FILE", ""), "the owner's bearer token file (env VDS_TOKEN_FILE; default DIR/"+ownerTokenFile+")")
	return c
}

func (c *common) parse(args []string) error {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	if c.fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "vds: unexpected arguments %q\n", c.fs.Args())
		return errUsage
	}
	return nil
}

func (c *common) path(p string) string { return filepath.Join(c.dir, p) }

// logger returns the structured logger of servers.
func (c *common) logger(role string) *slog.Logger {
	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if c.logJSON {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	return slog.New(h).With("role", role)
}

// url turns a host:port into an http(s) URL; other forms pass through.
func (c *common) url(addr string) string {
	if strings.Contains(addr, "://") || strings.HasPrefix(addr, "unix:") {
		return addr
	}
	if c.tlsDir != "" {
		return "https://" + addr
	}
	return "http://" + addr
}

// isUnix reports whether an address is a Unix socket.
func isUnix(addr string) bool { return strings.HasPrefix(addr, "unix:") }

// dialOwner connects to the owner as its operator: over HTTP(S) it
// presents the owner's token (from the token file, if there is one), which
// the owner's mutations require. Give the token to no other server.
func (c *common) dialOwner() (transport.Transport, error) {
	var opts []transport.Option
	if !isUnix(c.owner) {
		tok, err := readToken(c.tokenPath())
		if err != nil {
			return nil, err
		}
		if tok != "" {
			opts = append(opts, transport.WithBearerToken(tok))
		}
	}
	return c.dial(c.owner, opts...)
}

// dial connects to a server as a client.
func (c *common) dial(addr string, opts ...transport.Option) (transport.Transport, error) {
	u := c.url(addr)
	o, err := c.tlsOpts(u)
	if err != nil {
		return nil, err
	}
	return transport.Dial(u, append(opts, o...)...)
}

// tlsOpts returns the client TLS option an https:// URL needs.
func (c *common) tlsOpts(u string) ([]transport.Option, error) {
	if !strings.HasPrefix(u, "https://") {
		return nil, nil
	}
	if c.tlsDir == "" {
		return nil, fmt.Errorf("%s needs -tls-dir", u)
	}
	t, err := transport.ClientTLS(filepath.Join(c.tlsDir, "ca.pem"), filepath.Join(c.tlsDir, "client.pem"), filepath.Join(c.tlsDir, "client-key.pem"))
	if err != nil {
		return nil, err
	}
	return []transport.Option{transport.WithTLS(t)}, nil
}

// dialStorage connects to the storage server: to its one address as dial
// does, or, given a comma-separated list of replicas (-storage a,b), through
// a transport.Failover that moves a call to the next replica when one is
// unreachable. log, if not nil, gets a WARN line per fail-over, and
// c.onFailover, if set, is called (the server's metrics count them).
func (c *common) dialStorage(log *slog.Logger, opts ...transport.Option) (transport.Transport, error) {
	addrs := transport.SplitAddrs(c.storage)
	switch len(addrs) {
	case 0:
		return nil, usageErrorf("-storage: no address")
	case 1:
		return c.dial(addrs[0], opts...)
	}
	urls := make([]string, len(addrs))
	var withTLS []transport.Option // the same for every https:// replica
	for i, a := range addrs {
		urls[i] = c.url(a)
		o, err := c.tlsOpts(urls[i])
		if err != nil {
			return nil, err
		}
		if withTLS == nil {
			withTLS = o
		}
	}
	opts = append(opts, withTLS...)
	if hook := c.onFailover; log != nil || hook != nil {
		opts = append(opts, transport.WithOnFailover(func(from, to string, err error) {
			if log != nil {
				log.Warn("storage replica failed; failing over", "from", from, "to", to, "err", err)
			}
			if hook != nil {
				hook(from, to, err)
			}
		}))
	}
	return transport.DialFailover(urls, opts...)
}

// firstStorage returns the first address of -storage.
func (c *common) firstStorage() string {
	if a := transport.SplitAddrs(c.storage); len(a) > 0 {
		return a[0]
	}
	return c.storage
}

// serverTLS returns the server TLS configuration (mutual TLS) or nil.
func (c *common) serverTLS() (*tls.Config, error) {
	if c.tlsDir == "" {
		return nil, nil
	}
	return transport.ServerTLS(filepath.Join(c.tlsDir, "server.pem"), filepath.Join(c.tlsDir, "server-key.pem"), filepath.Join(c.tlsDir, "ca.pem"))
}

// loadCRS loads the data directory's CRS, pinned to its recorded digest.
func (c *common) loadCRS() (*commitment.CRS, error) {
	d, err := os.ReadFile(c.path(digestFile))
	if err != nil {
		return nil, fmt.Errorf("no CRS in %s (run vds setup): %w", c.dir, err)
	}
	digest, err := commitment.ParseDigest(strings.TrimSpace(string(d)))
	if err != nil {
		return nil, err
	}
	f, err := os.Open(c.path(crsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return commitment.Load(f, commitment.WithPinnedDigest(digest))
}

// loadOwnerKeys reads the owner's public keys written by setup.
func (c *common) loadOwnerKeys() (roles.OwnerKeys, error) {
	var k roles.OwnerKeys
	b, err := os.ReadFile(c.path(ownerKeysFile))
	if err != nil {
		return k, fmt.Errorf("no owner keys in %s (run vds setup): %w", c.dir, err)
	}
	if err := codec.Default().Unmarshal(b, &k); err != nil {
		return k, fmt.Errorf("%s: %w", ownerKeysFile, err)
	}
	return k, k.Check()
}

// writeFileAtomic writes a file through a temporary file and a rename.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, bytes.NewReader(data)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
