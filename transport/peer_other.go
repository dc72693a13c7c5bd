//go:build !linux

package transport

import "net"

// checkPeer accepts every caller: without SO_PEERCRED the socket's mode
// (0600) is the only check.
func checkPeer(net.Conn) error { return nil }
