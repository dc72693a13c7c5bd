//go:build linux

package transport

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// checkPeer refuses a Unix-socket caller that does not run as this
// process's user (SO_PEERCRED).
func checkPeer(conn net.Conn) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("%w: not a Unix socket", ErrSignerPeer)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignerPeer, err)
	}
	var cred *syscall.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return fmt.Errorf("%w: %w", ErrSignerPeer, err)
	}
	if cerr != nil {
		return fmt.Errorf("%w: %w", ErrSignerPeer, cerr)
	}
	if int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("%w: uid %d is not the signer's (%d)", ErrSignerPeer, cred.Uid, os.Getuid())
	}
	return nil
}
