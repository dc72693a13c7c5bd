//go:build unix

package transport

import "syscall"

func umask(m int) int { return syscall.Umask(m) }
