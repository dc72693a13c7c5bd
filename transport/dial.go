package transport

import (
	"fmt"
	"strings"
)

// Dial returns a client transport for an address: "http://host:port",
// "https://host:port" (configure WithTLS) or "unix:///path/to.sock" (also
// "unix:/path" and "unix:relative/path").
func Dial(addr string, opts ...Option) (Transport, error) {
	switch {
	case strings.HasPrefix(addr, "unix:"):
		return NewUnixClient(UnixPath(addr), opts...)
	case strings.HasPrefix(addr, "http://"), strings.HasPrefix(addr, "https://"):
		return NewHTTPClient(addr, opts...)
	}
	return nil, fmt.Errorf("transport: address %q: want http://, https:// or unix://: %w", addr, errInvalid)
}

// UnixPath returns the socket path of a "unix:" address.
func UnixPath(addr string) string {
	p := strings.TrimPrefix(addr, "unix:")
	if strings.HasPrefix(p, "//") {
		p = p[2:]
	}
	return p
}
