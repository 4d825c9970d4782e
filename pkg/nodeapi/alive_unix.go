//go:build unix

package nodeapi

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// alive reports whether an idle connection may carry another request: the
// agent has not closed it, and nothing arrived on it while it was idle
// (which would not belong to any request). It peeks at the socket without
// blocking; a TLS connection is judged by its socket, so a record the
// agent sent while idle (an alert, a session ticket) retires it too.
func alive(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	live := false
	err = raw.Read(func(fd uintptr) bool {
		var b [1]byte
		// EAGAIN: open and quiet. 0 bytes: closed by the agent. Data, or
		// another error (a reset): not reusable.
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		live = errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
		return true // never wait for the socket to become readable
	})
	return err == nil && live
}
