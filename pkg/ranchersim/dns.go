package ranchersim

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"
)

// This file is Rancher DNS (rancher-dns --metadata-server): A records, TTL
// 1 s, for <service>, <service>.<stack> and <service>.<stack>.rancher.internal
// (running containers that pass or have no health check), container names,
// and rancher-metadata[.rancher.internal] (169.254.169.250), read from
// rancher-metadata's current snapshot, so DNS changes when metadata
// reloads. Other names are NXDOMAIN (there is no upstream to forward to).
// UDP answers are truncated (TC) beyond 512 bytes, or the EDNS size, so
// resolvers retry over TCP; TCP serves at most maxDNSConns connections at
// once (beyond, a connection is closed at once), each idle for at most
// dnsIdleTimeout.

// DNS wire constants.
const (
	dnsTypeA    = 1
	dnsTypeOPT  = 41
	dnsTypeANY  = 255
	dnsClassIN  = 1
	dnsTTL      = 1
	dnsRcodeOK  = 0
	dnsFormErr  = 1
	dnsNXDomain = 3
	dnsNotImp   = 4
	dnsMaxUDP   = 512
	dnsEDNSSize = 4096
)

// Bounds of DNS over TCP.
const (
	maxDNSConns    = 256
	dnsIdleTimeout = 10 * time.Second
)

// dnsQuery is a parsed single-question query.
type dnsQuery struct {
	id       uint16
	flags    uint16
	name     string // lowercase, no trailing dot
	qtype    uint16
	question []byte // the raw question section
	edns     bool
	udpSize  int
}

var errDNSFormat = errors.New("malformed dns message")

// parseDNSQuery decodes a query with one question and an optional OPT.
func parseDNSQuery(msg []byte) (dnsQuery, error) {
	var q dnsQuery
	if len(msg) < 12 {
		return q, errDNSFormat
	}
	q.id = binary.BigEndian.Uint16(msg[0:])
	q.flags = binary.BigEndian.Uint16(msg[2:])
	if binary.BigEndian.Uint16(msg[4:]) != 1 {
		return q, errDNSFormat
	}
	off := 12
	var labels []string
	for {
		if off >= len(msg) {
			return q, errDNSFormat
		}
		n := int(msg[off])
		off++
		if n == 0 {
			break
		}
		if n > 63 || off+n > len(msg) {
			return q, errDNSFormat
		}
		labels = append(labels, strings.ToLower(string(msg[off:off+n])))
		off += n
	}
	if off+4 > len(msg) {
		return q, errDNSFormat
	}
	q.name = strings.Join(labels, ".")
	q.qtype = binary.BigEndian.Uint16(msg[off:])
	q.question = msg[12 : off+4]
	off += 4
	q.udpSize = dnsMaxUDP
	if binary.BigEndian.Uint16(msg[10:]) > 0 && off+11 <= len(msg) && msg[off] == 0 &&
		binary.BigEndian.Uint16(msg[off+1:]) == dnsTypeOPT {
		q.edns = true
		q.udpSize = max(dnsMaxUDP, min(int(binary.BigEndian.Uint16(msg[off+3:])), dnsEDNSSize))
	}
	return q, nil
}

// buildDNSResponse encodes an answer with A records; maxSize 0 means no
// limit (TCP). Answers that do not fit are dropped and TC is set.
func buildDNSResponse(q dnsQuery, rcode int, ips []netip.Addr, maxSize int) []byte {
	const rrLen = 16
	optLen := 0
	if q.edns {
		optLen = 11
	}
	tc := false
	if maxSize > 0 {
		room := (maxSize - 12 - len(q.question) - optLen) / rrLen
		if len(ips) > room {
			ips, tc = ips[:max(room, 0)], true
		}
	}
	flags := uint16(0x8000) | q.flags&0x7800 | 0x0400 | q.flags&0x0100 | 0x0080 | uint16(rcode)
	if tc {
		flags |= 0x0200
	}
	out := make([]byte, 12, 12+len(q.question)+len(ips)*rrLen+optLen)
	binary.BigEndian.PutUint16(out[0:], q.id)
	binary.BigEndian.PutUint16(out[2:], flags)
	binary.BigEndian.PutUint16(out[4:], 1)
	binary.BigEndian.PutUint16(out[6:], uint16(len(ips)))
	if q.edns {
		binary.BigEndian.PutUint16(out[10:], 1)
	}
	out = append(out, q.question...)
	for _, ip := range ips {
		a := ip.As4()
		out = append(out, 0xc0, 0x0c, 0, dnsTypeA, 0, dnsClassIN, 0, 0, 0, dnsTTL, 0, 4, a[0], a[1], a[2], a[3])
	}
	if q.edns {
		out = append(out, 0, 0, dnsTypeOPT, byte(dnsEDNSSize>>8), byte(dnsEDNSSize&0xff), 0, 0, 0, 0, 0, 0)
	}
	return out
}

// answerDNS resolves one query for a client at callerIP.
func (s *Sim) answerDNS(msg []byte, callerIP string, maxSize int) []byte {
	q, err := parseDNSQuery(msg)
	if err != nil {
		if len(msg) < 12 {
			return nil
		}
		return buildDNSResponse(dnsQuery{id: binary.BigEndian.Uint16(msg[0:])}, dnsFormErr, nil, maxSize)
	}
	if q.flags&0x7800 != 0 {
		return buildDNSResponse(q, dnsNotImp, nil, maxSize)
	}
	ips, known := s.resolve(q.name, callerIP)
	if !known {
		return buildDNSResponse(q, dnsNXDomain, nil, maxSize)
	}
	if q.qtype != dnsTypeA && q.qtype != dnsTypeANY {
		ips = nil // the name exists, with no record of that type
	}
	return buildDNSResponse(q, dnsRcodeOK, ips, maxSize)
}

// resolve returns the A records of a name and whether the name is known,
// from the current metadata snapshot (rancher-dns reads rancher-metadata).
func (s *Sim) resolve(name, callerIP string) ([]netip.Addr, bool) {
	snap, _ := s.meta.current()
	return resolveIn(snap.state, name, callerIP)
}

// resolveIn answers a name from frozen metadata: rancher-metadata[.rancher.internal],
// <service>.<stack>[.rancher.internal], a bare <service> (the caller's
// stack first), or a container name.
func resolveIn(st metaState, name, callerIP string) ([]netip.Addr, bool) {
	name = strings.TrimSuffix(name, ".rancher.internal")
	if name == "rancher-metadata" {
		return []netip.Addr{netip.MustParseAddr(NetworkServicesIP)}, true
	}
	labels := strings.Split(name, ".")
	var svc *metaService
	switch len(labels) {
	case 1:
		svc = st.serviceForCaller(labels[0], callerIP)
		if svc == nil {
			return st.containerByName(labels[0])
		}
	case 2:
		svc = st.service(labels[1], labels[0])
	}
	if svc == nil {
		return nil, false
	}
	var ips []netip.Addr
	for _, c := range st.containers {
		if c.serviceID != svc.id || c.state != "running" || c.upgradeOld || !dnsHealthy(c.healthState) {
			continue
		}
		if a, err := netip.ParseAddr(c.ip); err == nil {
			ips = append(ips, a)
		}
	}
	return ips, true
}

// dnsHealthy: Rancher DNS answers containers that pass their health check
// or have none.
func dnsHealthy(h string) bool {
	return h == "" || h == "healthy" || h == "updating-healthy"
}

// service finds a live service by stack and service name (names match
// case-insensitively: DNS names are).
func (st metaState) service(stackName, serviceName string) *metaService {
	for i := range st.stacks {
		if !strings.EqualFold(st.stacks[i].name, stackName) {
			continue
		}
		for j := range st.services {
			if svc := &st.services[j]; svc.stackID == st.stacks[i].id && strings.EqualFold(svc.name, serviceName) {
				return svc
			}
		}
	}
	return nil
}

// serviceForCaller resolves a bare service name in the caller's own stack
// first (Rancher's search domains), then in the first stack that has a
// service of that name.
func (st metaState) serviceForCaller(name, callerIP string) *metaService {
	for _, c := range st.containers {
		if c.ip == callerIP && c.stackName != "" {
			if svc := st.service(c.stackName, name); svc != nil {
				return svc
			}
		}
	}
	for _, sk := range st.stacks {
		if svc := st.service(sk.name, name); svc != nil {
			return svc
		}
	}
	return nil
}

func (st metaState) containerByName(name string) ([]netip.Addr, bool) {
	for _, c := range st.containers {
		if !strings.EqualFold(c.name, name) {
			continue
		}
		if a, err := netip.ParseAddr(c.ip); err == nil && c.state == "running" {
			return []netip.Addr{a}, true
		}
		return nil, true
	}
	return nil, false
}

// ListenDNS opens UDP and TCP on the same address (port 0: one port free
// for both), for ServeDNS on sockets the caller owns.
func ListenDNS(addr string) (net.PacketConn, net.Listener, error) {
	return listenDNS(addr)
}

// serveDNSPacket answers UDP queries until the connection is closed.
func (s *Sim) serveDNSPacket(conn net.PacketConn) {
	buf := make([]byte, 65535)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		host, _, _ := net.SplitHostPort(from.String())
		q, perr := parseDNSQuery(buf[:n])
		size := dnsMaxUDP
		if perr == nil {
			size = q.udpSize
		}
		if resp := s.answerDNS(buf[:n], host, size); resp != nil {
			_, _ = conn.WriteTo(resp, from)
		}
	}
}

// serveDNSStream answers TCP queries (2-byte length prefix) until the
// listener is closed.
func (s *Sim) serveDNSStream(ln net.Listener) {
	slots := make(chan struct{}, maxDNSConns)
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		select {
		case slots <- struct{}{}:
			go func() {
				defer func() { <-slots }()
				s.serveDNSConn(conn)
			}()
		default:
			_ = conn.Close()
		}
	}
}

func (s *Sim) serveDNSConn(conn net.Conn) {
	defer conn.Close()
	host, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	var hdr [2]byte
	for {
		_ = conn.SetDeadline(time.Now().Add(dnsIdleTimeout))
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(conn, msg); err != nil {
			return
		}
		resp := s.answerDNS(msg, host, 0)
		if resp == nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := conn.Write(append(out, resp...)); err != nil {
			return
		}
	}
}
