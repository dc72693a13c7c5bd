//go:build !unix

package transport

import "net"

// open reports whether a pooled connection may still be used; without a
// non-blocking peek, a failed write is caught by the caller instead.
func open(net.Conn) bool { return true }
