package nodeapi

import (
	"strings"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Protocol limits (docs/nodeapi.md, "Limits"). Every agent, Go or BEAM,
// answers the same way when a request crosses one of them.
const (
	// MaxPeers caps the entries of one PUT /v1/peers: a full mesh of more
	// than about a thousand BEAM nodes is not practical, and each name may
	// cost the node an atom. A larger set gets 400 too_many_peers at once.
	MaxPeers = 1000
	// MaxQuoteBytes is the longest prefix of any input that an error
	// message quotes, so that no answer echoes a long input back.
	MaxQuoteBytes = mesh.MaxQuoteBytes
	// MaxLineBytes caps the request line (414 beyond) and each header
	// line (431 beyond), CR LF not counted.
	MaxLineBytes = 8 << 10
	// MaxHeadBytes caps the whole request head (431 beyond).
	MaxHeadBytes = 64 << 10
	// DefaultHeadTimeout is the one deadline for a whole request head,
	// from the connection's accept (TLS handshake included) or from the
	// first byte of a later request on a kept-alive connection. It is not
	// renewed per line, so a client that sends a header line every few
	// seconds cannot hold a connection.
	DefaultHeadTimeout = 5 * time.Second
	// DefaultBodyTimeout is the deadline for a request body, from the end
	// of its head: 1 MiB at 1 Mbit/s.
	DefaultBodyTimeout = 10 * time.Second
	// DefaultIdleTimeout closes kept-alive connections that carry no
	// request. It is longer than the client's idle timeout (45 s), so the
	// controller rarely reuses a connection the agent is closing.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultWriteTimeout bounds the handling and writing of an answer:
	// connects take at most 1.5 s, and a client that does not read its
	// answer must not hold the connection.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxConnsPerSource caps the connections open at once from one
	// source address; beyond it a new connection is closed at once. The
	// controller needs a few, Rancher's health checks one.
	DefaultMaxConnsPerSource = 64
	// DefaultMaxConns caps the connections open at once in total.
	DefaultMaxConns = 1024
)

// Limits are the connection limits of a Server. A zero field takes its
// default; the defaults are the protocol's.
type Limits struct {
	// MaxConnsPerSource: connections open at once from one IP address.
	// Default DefaultMaxConnsPerSource.
	MaxConnsPerSource int
	// MaxConns: connections open at once in total. Default DefaultMaxConns.
	MaxConns int
	// HeadTimeout: the deadline of a whole request head. Default
	// DefaultHeadTimeout.
	HeadTimeout time.Duration
	// BodyTimeout: the deadline of a request body. Default
	// DefaultBodyTimeout.
	BodyTimeout time.Duration
	// IdleTimeout: how long a kept-alive connection may wait for its next
	// request. Default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// WriteTimeout: the deadline of handling and writing an answer, from
	// the end of the request head. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// withDefaults fills every zero field.
func (l Limits) withDefaults() Limits {
	setInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setInt(&l.MaxConnsPerSource, DefaultMaxConnsPerSource)
	setInt(&l.MaxConns, DefaultMaxConns)
	setDur(&l.HeadTimeout, DefaultHeadTimeout)
	setDur(&l.BodyTimeout, DefaultBodyTimeout)
	setDur(&l.IdleTimeout, DefaultIdleTimeout)
	setDur(&l.WriteTimeout, DefaultWriteTimeout)
	return l
}

// quote is mesh.Quote: at most MaxQuoteBytes of s, quoted.
func quote(s string) string { return mesh.Quote(s) }

// cut returns a message from elsewhere (a JSON decoder's, say, which may
// hold a literal of the input) cut to MaxQuoteBytes bytes.
func cut(msg string) string {
	if len(msg) <= MaxQuoteBytes {
		return msg
	}
	return strings.ToValidUTF8(msg[:MaxQuoteBytes], "") + "..."
}
