//go:build !unix

package transport

func umask(m int) int { return m }
