//go:build linux

package deploy

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// proxy is a TCP proxy on 127.0.0.1 in front of a PostgreSQL server, so
// that a test can take the database away from the servers (Cut) and give
// it back (Restore) without touching the server itself.
type proxy struct {
	ln            net.Listener
	network, addr string // the server's
	url           string // the database's URL through the proxy

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// pgBackend returns where the server of a PostgreSQL URL or keyword/value
// DSN listens ("unix" and a socket path, or "tcp" and host:port) and the
// URL's parts to keep: user, password, database and parameters other than
// host and port.
func pgBackend(dsn string) (network, addr string, u *url.URL, err error) {
	u = &url.URL{Scheme: "postgres"}
	q := url.Values{}
	host, port := "", ""
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		p, err := url.Parse(dsn)
		if err != nil {
			return "", "", nil, err
		}
		u.User, u.Path = p.User, p.Path
		host, port = p.Hostname(), p.Port()
		for k, vs := range p.Query() {
			switch k {
			case "host":
				host = vs[0]
			case "port":
				port = vs[0]
			default:
				q[k] = vs
			}
		}
	} else {
		user, pass := "", ""
		for _, kv := range strings.Fields(dsn) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.ContainsAny(v, `'\`) {
				return "", "", nil, fmt.Errorf("DSN %q: only unquoted key=value pairs are supported", dsn)
			}
			switch k {
			case "host":
				host = v
			case "port":
				port = v
			case "user":
				user = v
			case "password":
				pass = v
			case "dbname":
				u.Path = "/" + v
			default:
				q.Set(k, v)
			}
		}
		if pass != "" {
			u.User = url.UserPassword(user, pass)
		} else if user != "" {
			u.User = url.User(user)
		}
	}
	if port == "" {
		port = "5432"
	}
	q.Set("sslmode", "disable") // the proxy speaks plain TCP to the servers
	u.RawQuery = q.Encode()
	switch {
	case strings.HasPrefix(host, "/"):
		return "unix", filepath.Join(host, ".s.PGSQL."+port), u, nil
	case host == "":
		return "", "", nil, fmt.Errorf("DSN %q names no host", dsn)
	default:
		return "tcp", net.JoinHostPort(host, port), u, nil
	}
}

// newProxy starts a proxy to the database of dsn.
func newProxy(dsn string) (*proxy, error) {
	network, addr, u, err := pgBackend(dsn)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u.Host = ln.Addr().String()
	p := &proxy{ln: ln, network: network, addr: addr, url: u.String(), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's address.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

// URL is the database's URL through the proxy.
func (p *proxy) URL() string { return p.url }

// Check dials the server itself.
func (p *proxy) Check() error {
	c, err := net.DialTimeout(p.network, p.addr, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.pipe(c)
	}
}

// pipe copies between a client and a new connection to the server until
// either side closes or the proxy is cut.
func (p *proxy) pipe(c net.Conn) {
	defer p.wg.Done()
	s, err := net.DialTimeout(p.network, p.addr, 5*time.Second)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		s.Close()
		p.drop(c)
		return
	}
	p.conns[s] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(s, c); done <- struct{}{} }()
	go func() { io.Copy(c, s); done <- struct{}{} }()
	<-done
	p.drop(c)
	p.drop(s)
	<-done
}

func (p *proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// Cut closes every connection through the proxy and refuses new ones (they
// are accepted and closed at once, as a server that went away would).
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Restore lets connections through again.
func (p *proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Close stops the proxy and waits for its goroutines.
func (p *proxy) Close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}
