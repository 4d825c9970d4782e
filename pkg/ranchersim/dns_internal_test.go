package ranchersim

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
)

// query builds a DNS query for name and type.
func query(id uint16, name string, qtype uint16) []byte {
	b := []byte{byte(id >> 8), byte(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			b = append(b, byte(i-start))
			b = append(b, name[start:i]...)
			start = i + 1
		}
	}
	b = append(b, 0)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, qtype), 1)
}

func TestDNSCodec(t *testing.T) {
	ips := []netip.Addr{netip.MustParseAddr("10.42.0.2"), netip.MustParseAddr("10.42.0.3")}
	tests := []struct {
		name    string
		msg     []byte
		wantErr bool
		wantQ   string
	}{
		{"simple", query(7, "hello.demo.rancher.internal", dnsTypeA), false, "hello.demo.rancher.internal"},
		{"uppercase", query(7, "Hello.DEMO", dnsTypeA), false, "hello.demo"},
		{"short", []byte{1, 2, 3}, true, ""},
		{"truncated name", query(7, "hello", dnsTypeA)[:15], true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := parseDNSQuery(tc.msg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if q.name != tc.wantQ || q.id != 7 || q.qtype != dnsTypeA {
				t.Fatalf("parsed %+v", q)
			}
			resp := buildDNSResponse(q, dnsRcodeOK, ips, 0)
			if binary.BigEndian.Uint16(resp[0:]) != 7 || resp[2]&0x80 == 0 || binary.BigEndian.Uint16(resp[6:]) != 2 {
				t.Fatalf("response header % x", resp[:12])
			}
			last := resp[len(resp)-4:]
			if netip.AddrFrom4([4]byte(last)) != ips[1] {
				t.Fatalf("last record % x", last)
			}
		})
	}
}

func TestDNSTruncatesToUDPSize(t *testing.T) {
	q, err := parseDNSQuery(query(1, "a.b", dnsTypeA))
	if err != nil {
		t.Fatal(err)
	}
	var ips []netip.Addr
	for i := range 100 {
		ips = append(ips, netip.AddrFrom4([4]byte{10, 42, 1, byte(i + 2)}))
	}
	resp := buildDNSResponse(q, dnsRcodeOK, ips, dnsMaxUDP)
	if len(resp) > dnsMaxUDP || resp[2]&0x02 == 0 {
		t.Fatalf("len %d, flags %08b", len(resp), resp[2])
	}
}

func TestDNSOverTCPServesAtMostMaxConnsAtOnce(t *testing.T) {
	s, err := New(Options{IPRange: "127.42.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); s.serveDNSStream(ln) }()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	ask := func(c net.Conn) error {
		q := query(9, "rancher-metadata", dnsTypeA)
		if _, err := c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(q)))); err != nil {
			return err
		}
		if _, err := c.Write(q); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		var hdr [2]byte
		_, err := io.ReadFull(c, hdr[:])
		return err
	}
	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			_ = c.Close()
		}
	})
	for range maxDNSConns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		if err := ask(c); err != nil {
			t.Fatalf("connection %d: %v", len(held), err)
		}
	}
	extra, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	// Closed at once: the query's write or the answer's read fails (EPIPE
	// when the close came before the write).
	if err := ask(extra); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("connection beyond %d: %v, want closed at once", maxDNSConns, err)
	}
	// A freed slot serves the next connection.
	_ = held[0].Close()
	testwait.Eventually(t, 0, "a freed slot serves the next connection", func() bool {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return false
		}
		defer c.Close()
		return ask(c) == nil
	})
}
