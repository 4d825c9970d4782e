package nodeapi

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// The fuzz targets run their seeds (f.Add and testdata/fuzz/<target>) on
// every plain go test; make fuzz runs each for FUZZTIME.

// maxMessageBytes bounds an error message: a fixed sentence plus at most
// a few quoted prefixes of MaxQuoteBytes.
const maxMessageBytes = 512

func checkProtocolError(t *testing.T, e *Error, codes ...string) {
	t.Helper()
	if !slices.Contains(codes, e.Code) {
		t.Fatalf("code %q, want one of %v", e.Code, codes)
	}
	if e.Message == "" || len(e.Message) > maxMessageBytes || !utf8.ValidString(e.Message) {
		t.Fatalf("message of %d bytes (valid UTF-8: %v): %.300q", len(e.Message), utf8.ValidString(e.Message), e.Message)
	}
}

func FuzzDecodeSetPeersRequest(f *testing.F) {
	for _, s := range []string{`{"revision":1,"peers":["a@1.2.3.4"]}`, `{"peers":[],"revision":0}`, `{"Revision":1,"peers":[]}`,
		`{"revision":1,"peers":[],"revision":1}`, `{"revision":1,"peers":[null]}`, `{"revision":1e2,"peers":[]}`, `[]`, `{`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := DecodeSetPeersRequest(b)
		if e != nil {
			checkProtocolError(t, e, CodeBadRequest, CodeBadNodeName, CodeTooManyPeers)
			return
		}
		if len(req.Peers) > MaxPeers {
			t.Fatalf("%d peers accepted", len(req.Peers))
		}
		for _, p := range req.Peers {
			if err := mesh.CheckNodeName(p); err != nil {
				t.Fatalf("accepted a bad name: %v", err)
			}
		}
		again, e := DecodeSetPeersRequest(mustMarshal(t, req))
		if e != nil || again.Revision != req.Revision || !slices.Equal(again.Peers, req.Peers) {
			t.Fatalf("round trip: %+v, %+v; want %+v", again, e, req)
		}
	})
}

func FuzzDecodeLeaveRequest(f *testing.F) {
	for _, s := range []string{`{"revision":9}`, `{"revision":-0}`, `{"REVISION":9}`, `{"revision":9,"x":1}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := DecodeLeaveRequest(b)
		if e != nil {
			checkProtocolError(t, e, CodeBadRequest)
			return
		}
		if again, e := DecodeLeaveRequest(mustMarshal(t, req)); e != nil || again != req {
			t.Fatalf("round trip: %+v, %+v; want %+v", again, e, req)
		}
	})
}

func FuzzDecodeAnnouncement(f *testing.F) {
	for _, s := range []string{`{"event":"up","node":"a@1.2.3.4","ip":"1.2.3.4"}`, `{"event":"stopping","node":"a@h","ip":"::1"}`,
		`{"event":"up","node":"a@h","ip":"1.2.3"}`, `{"Event":"up"}`, `{"event":"up","node":"a@h","ip":"fe80::1%eth0"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, e := DecodeAnnouncement(b)
		if e != nil {
			checkProtocolError(t, e, CodeBadRequest, CodeBadNodeName)
			return
		}
		if a.Event != EventUp && a.Event != EventStopping || mesh.CheckNodeName(a.Node) != nil {
			t.Fatalf("accepted %+v", a)
		}
		if _, err := netip.ParseAddr(a.IP); err != nil {
			t.Fatalf("accepted ip %q: %v", a.IP, err)
		}
		if again, e := DecodeAnnouncement(mustMarshal(t, a)); e != nil || again != a {
			t.Fatalf("round trip: %+v, %+v; want %+v", again, e, a)
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	for _, s := range []string{
		`{"node":"a@h","connected":["b@h"],"managed":["b@h"],"revision":3,"leaving":false,"otpRelease":"25",` +
			`"flags":{"connectAll":true,"preventOverlappingPartitions":true,"netTicktime":60},"failed":[{"node":"b@h","reason":"x"}]}`,
		`{"Revision":1,"revision":2}`, `{"flags":null,"failed":null}`, `{"atom_budget":100000,"atoms_created":7}`, `{"failed":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := DecodeStatus(b)
		if err != nil {
			return
		}
		ns := ToNodeStatus(st)
		again, err := DecodeStatus(mustMarshal(t, FromNodeStatus(ns)))
		if err != nil {
			t.Fatalf("re-decoding a marshalled status: %v", err)
		}
		if got := ToNodeStatus(again); !got.Connected.Equal(ns.Connected) || !got.Managed.Equal(ns.Managed) || got.Revision != ns.Revision {
			t.Fatalf("round trip: %+v, want %+v", got, ns)
		}
	})
}

// FuzzFramer checks that the framer's events do not depend on how the
// stream is cut into reads; the first bytes choose the read sizes.
func FuzzFramer(f *testing.F) {
	for _, s := range []string{
		"\x01\x07GET / HTTP/1.1\r\nHost: a\r\n\r\nPUT / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /",
		"\x03\x05\r\n\r\nGET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"\x02\x02GET / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc",
		"\x09\x01GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		sizes := []int{int(b[0]) + 1, int(b[1])*31 + 1}
		stream := b[2:]
		if got, want := frames(stream, sizes), frames(stream, []int{len(stream)}); !slices.Equal(got, want) {
			t.Fatalf("chunks %v: %v; one read: %v", sizes, got, want)
		}
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
