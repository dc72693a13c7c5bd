//go:build unix

package transport

import (
	"net"
	"syscall"
)

// open reports whether the peer has not closed an idle connection: a
// non-blocking peek sees end of file on a closed one.
func open(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := true
	var buf [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if n == 0 && err == nil {
			alive = false // orderly shutdown by the peer
		} else if err != nil && err != syscall.EAGAIN && err != syscall.EWOULDBLOCK {
			alive = false
		}
		return true
	})
	return alive
}
