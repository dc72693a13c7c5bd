package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vdsproject/vds/transport"
)

// ownerTokenFile is the owner's bearer token in a data directory (mode
// 0600): clients present it to call the owner's mutations over HTTP(S).
const ownerTokenFile = "owner.token"

// tokenPath returns the token file of the command: -token-file, else
// VDS_TOKEN_FILE, else DIR/owner.token.
func (c *common) tokenPath() string {
	if c.tokenFile != "" {
		return c.tokenFile
	}
	return c.path(ownerTokenFile)
}

// writeToken writes a fresh token into path, atomically, mode 0600.
func writeToken(path string) error {
	tok, err := transport.NewToken()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(path, []byte(tok+"\n"), 0o600)
}

// readToken reads the token file; a missing file is ("", nil).
func readToken(path string) (string, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("token file %s has mode %v: others may read it (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return string(trimSpace(b)), nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// RunToken is `vds token rotate`: a new owner token replaces the old one
// at once; a running owner reads it within a second and refuses the old one.
func RunToken(ctx context.Context, args []string) error {
	args, err := subcommand(args, "rotate", "usage: vds token rotate [-dir DIR] [-token-file F]")
	if err != nil {
		return err
	}
	c := newCommon("token rotate")
	if err := c.parse(args); err != nil {
		return err
	}
	p := c.tokenPath()
	if err := writeToken(p); err != nil {
		return err
	}
	fmt.Printf("new owner token in %s (mode 0600); the owner takes it within a second, the old one is refused from then on\n", p)
	return nil
}

// ownerAuthorizer returns the policy of `vds owner serve` on addr: a Unix
// socket needs none (its mode is the check); on TCP, the token file and/or
// mutual TLS, or -insecure said in so many words.
func (c *common) ownerAuthorizer(addr string, insecure bool) (transport.Authorizer, string, error) {
	if isUnix(addr) {
		return transport.DefaultAuthorizer, "unix socket (mode 0600)", nil
	}
	p := c.tokenPath()
	_, err := os.Stat(p)
	switch {
	case err == nil:
		if _, err := readToken(p); err != nil {
			return nil, "", err
		}
		a, err := transport.NewTokenAuthorizer(p)
		if err != nil {
			return nil, "", err
		}
		how := "bearer token from " + p
		if c.tlsDir != "" {
			how += " or the admin's client certificate"
		}
		return a, how, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, "", err
	case c.tokenFile != "":
		return nil, "", fmt.Errorf("token file %s: %w", p, err)
	case c.tlsDir != "":
		return transport.DefaultAuthorizer, "the admin's client certificate (mutual TLS)", nil
	case insecure:
		return transport.AuthorizerFunc(func(context.Context, *transport.Peer, string, string) error { return nil }), "NONE (-insecure)", nil
	}
	return nil, "", fmt.Errorf("refusing to serve the owner on %s without authentication: no token file %s and no -tls-dir; "+
		"create a token with `vds token rotate -dir %s`, serve on a Unix socket, use -tls-dir, "+
		"or pass -insecure to let anyone who reaches the port create and revoke batches", addr, p, c.dir)
}
