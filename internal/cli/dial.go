package cli

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/vdsproject/vds/transport"
)

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
// the owner's mutations require. Give the token to no other server. With
// a list of owners (-owner a,b: owners that share their store under a
// lease) it dials them as dialOwners does.
func (c *common) dialOwner() (transport.Transport, error) {
	var opts []transport.Option
	if addrs := transport.SplitAddrs(c.owner); len(addrs) > 0 && !isUnix(addrs[0]) {
		tok, err := readToken(c.tokenPath())
		if err != nil {
			return nil, err
		}
		if tok != "" {
			opts = append(opts, transport.WithBearerToken(tok))
		}
	}
	return c.dialOwners(opts...)
}

// Retries of a client of several owners: enough rounds over the list to
// outlast a takeover (the lease's duration and a renewal interval).
const (
	ownerRetries     = 12
	ownerRetryDelay  = 200 * time.Millisecond
	ownerMaxBackoff  = time.Second
	ownerDialTimeout = 2 * time.Second
)

// dialOwners connects to -owner: one address as dial does; a list through
// a transport.Failover, which sends a call to the owner that leads: reads
// move on from a standby or an unreachable owner, mutations only when they
// certainly were not applied (connection refused, not_leader).
func (c *common) dialOwners(opts ...transport.Option) (transport.Transport, error) {
	addrs := transport.SplitAddrs(c.owner)
	switch len(addrs) {
	case 0:
		return nil, usageErrorf("-owner: no address")
	case 1:
		return c.dial(addrs[0], opts...)
	}
	urls, withTLS, err := c.urls(addrs)
	if err != nil {
		return nil, err
	}
	opts = append(opts, withTLS...)
	opts = append(opts, transport.WithDialTimeout(ownerDialTimeout), transport.WithRetries(ownerRetries, ownerRetryDelay),
		transport.WithMaxBackoff(ownerMaxBackoff), transport.WithDownFor(ownerMaxBackoff))
	return transport.DialFailover(urls, opts...)
}

// urls returns the URLs of a list of servers (-owner a,b, -storage a,b)
// and the client TLS option they need (the same for every https:// one).
func (c *common) urls(addrs []string) ([]string, []transport.Option, error) {
	urls := make([]string, len(addrs))
	var withTLS []transport.Option
	for i, a := range addrs {
		urls[i] = c.url(a)
		o, err := c.tlsOpts(urls[i])
		if err != nil {
			return nil, nil, err
		}
		if withTLS == nil {
			withTLS = o
		}
	}
	return urls, withTLS, nil
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
	cert, key := c.tlsIdentity(false)
	t, err := transport.ClientTLS(filepath.Join(c.tlsDir, "ca.pem"), cert, key)
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
	urls, withTLS, err := c.urls(addrs)
	if err != nil {
		return nil, err
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

// serverTLS returns the server TLS configuration (mutual TLS, with the
// certificate of the server's role) or nil.
func (c *common) serverTLS() (*tls.Config, error) {
	if c.tlsDir == "" {
		return nil, nil
	}
	cert, key := c.tlsIdentity(true)
	return transport.ServerTLS(cert, key, filepath.Join(c.tlsDir, "ca.pem"))
}
