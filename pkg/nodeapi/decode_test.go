package nodeapi

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestDecodeSetPeersRequest(t *testing.T) {
	long := strings.Repeat("q", 1<<20)
	tests := []struct {
		name     string
		body     string
		want     SetPeersRequest
		wantCode string
	}{
		{"valid", `{"revision":3,"peers":["a@1.2.3.4","b@h"]}`, SetPeersRequest{Revision: 3, Peers: []string{"a@1.2.3.4", "b@h"}}, ""},
		{"fields in any order", `{"peers":[],"revision":0}`, SetPeersRequest{Peers: []string{}}, ""},
		{"escaped key is the same key", `{"\u0072evision":1,"peers":[]}`, SetPeersRequest{Revision: 1, Peers: []string{}}, ""},
		{"largest revision", `{"revision":18446744073709551615,"peers":[]}`, SetPeersRequest{Revision: 1<<64 - 1, Peers: []string{}}, ""},
		{"Revision in another case", `{"Revision":6,"peers":[]}`, SetPeersRequest{}, CodeBadRequest},
		{"Peers in another case", `{"revision":6,"Peers":[]}`, SetPeersRequest{}, CodeBadRequest},
		{"duplicate key", `{"revision":1,"peers":[],"revision":2}`, SetPeersRequest{}, CodeBadRequest},
		{"revision over 64 bits", `{"revision":18446744073709551616,"peers":[]}`, SetPeersRequest{}, CodeBadRequest},
		{"revision with exponent", `{"revision":1e3,"peers":[]}`, SetPeersRequest{}, CodeBadRequest},
		{"revision null", `{"revision":null,"peers":[]}`, SetPeersRequest{}, CodeBadRequest},
		{"peers null", `{"revision":1,"peers":null}`, SetPeersRequest{}, CodeBadRequest},
		{"a null peer", `{"revision":1,"peers":[null]}`, SetPeersRequest{}, CodeBadRequest},
		{"a nested array", `{"revision":1,"peers":[["a@b"]]}`, SetPeersRequest{}, CodeBadRequest},
		{"missing peers", `{"revision":1}`, SetPeersRequest{}, CodeBadRequest},
		{"bad name", `{"revision":1,"peers":["nohost"]}`, SetPeersRequest{}, CodeBadNodeName},
		{"1001 peers", fmt.Sprintf(`{"revision":1,"peers":%s}`, jsonNames(MaxPeers+1)), SetPeersRequest{}, CodeTooManyPeers},
		{"1001 peers, bad names: count first", fmt.Sprintf(`{"revision":1,"peers":[%s"x"]}`, strings.Repeat(`"bad",`, MaxPeers)), SetPeersRequest{}, CodeTooManyPeers},
		{"long unknown key", `{"revision":1,"peers":[],"` + long + `":1}`, SetPeersRequest{}, CodeBadRequest},
		{"trailing data", `{"revision":1,"peers":[]} {}`, SetPeersRequest{}, CodeBadRequest},
		{"empty", ``, SetPeersRequest{}, CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, e := DecodeSetPeersRequest([]byte(tt.body))
			if tt.wantCode != "" {
				if e == nil || e.Code != tt.wantCode {
					t.Fatalf("error %+v, want code %s", e, tt.wantCode)
				}
				if strings.Contains(e.Message, strings.Repeat("q", MaxQuoteBytes+1)) || len(e.Message) > 300 {
					t.Errorf("message of %d bytes echoes the input: %.200s", len(e.Message), e.Message)
				}
				return
			}
			if e != nil || got.Revision != tt.want.Revision || !slices.Equal(got.Peers, tt.want.Peers) {
				t.Errorf("got %+v, %+v; want %+v", got, e, tt.want)
			}
		})
	}
}

func jsonNames(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf(`"p%d@10.0.0.1"`, i)
	}
	return "[" + strings.Join(names, ",") + "]"
}

func TestDecodeLeaveAndAnnouncement(t *testing.T) {
	if r, e := DecodeLeaveRequest([]byte(`{"revision":9}`)); e != nil || r.Revision != 9 {
		t.Errorf("leave: %+v, %+v", r, e)
	}
	for _, b := range []string{`{"Revision":9}`, `{"revision":9,"revision":9}`, `{}`, `{"revision":-1}`} {
		if _, e := DecodeLeaveRequest([]byte(b)); e == nil || e.Code != CodeBadRequest {
			t.Errorf("leave %s: %+v, want bad_request", b, e)
		}
	}
	if a, e := DecodeAnnouncement([]byte(`{"event":"up","node":"a@1.2.3.4","ip":"1.2.3.4"}`)); e != nil || a.Node != "a@1.2.3.4" {
		t.Errorf("announcement: %+v, %+v", a, e)
	}
	for _, b := range []string{`{"Event":"up","node":"a@1.2.3.4","ip":"1.2.3.4"}`, `{"event":"up","node":"a@1.2.3.4","ip":1}`,
		`{"event":"up","node":"a@1.2.3.4","ip":"1.2.3.4","ip":"1.2.3.5"}`} {
		if _, e := DecodeAnnouncement([]byte(b)); e == nil || e.Code != CodeBadRequest {
			t.Errorf("announcement %s: %+v, want bad_request", b, e)
		}
	}
	e := func() *Error {
		_, e := DecodeAnnouncement([]byte(`{"event":"up","node":"` + strings.Repeat("n", 200) + `@h!","ip":"1.2.3.4"}`))
		return e
	}()
	if e == nil || e.Code != CodeBadNodeName || strings.Contains(e.Message, strings.Repeat("n", MaxQuoteBytes+1)) {
		t.Errorf("long bad name: %+v, want bad_node_name quoting at most %d bytes", e, MaxQuoteBytes)
	}
}

func TestDecodeStatusIsCaseSensitiveAndLenient(t *testing.T) {
	st, err := DecodeStatus([]byte(`{"node":"a@h","Revision":7,"revision":3,"managed":["b@h"],"later":{"x":1},` +
		`"flags":{"connectAll":true,"NetTicktime":9,"netTicktime":4},"failed":[{"node":"b@h","reason":"down","Node":"x@h"}],"atom_budget":100,"atoms_created":5}`))
	if err != nil {
		t.Fatal(err)
	}
	if st.Revision != 3 || st.Flags.NetTicktime != 4 || !st.Flags.ConnectAll || len(st.Failed) != 1 || st.Failed[0].Node != "b@h" ||
		st.AtomBudget == nil || *st.AtomBudget != 100 || *st.AtomsCreated != 5 {
		t.Errorf("decoded %+v", st)
	}
	for _, b := range []string{`{"revision":"3"}`, `{"flags":[]}`, `{"failed":{}}`, `[]`, `{"node":"a@h"} x`} {
		if _, err := DecodeStatus([]byte(b)); err == nil {
			t.Errorf("DecodeStatus(%s): want an error", b)
		}
	}
}

// frames feeds stream to a fresh framer in chunks of the given sizes
// (cycled) and returns the events with the offsets they happened at (a
// refusal without: its bytes never reach net/http, wherever it is noticed).
func frames(stream []byte, sizes []int) []string {
	var f framer
	var out []string
	pos, i := 0, 0
	for pos < len(stream) {
		size := sizes[i%len(sizes)]
		i++
		end := min(pos+max(size, 1), len(stream))
		chunk := stream[pos:end]
		off := 0
		for off < len(chunk) {
			k, ev, r := f.feed(chunk[off:])
			off += k
			switch ev {
			case evNone:
			case evRefuse:
				return append(out, r.code)
			default:
				out = append(out, fmt.Sprintf("%d:%d", pos+off, ev))
			}
		}
		pos = end
	}
	return out
}

func TestFramerIsIndependentOfChunking(t *testing.T) {
	stream := []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
		"PUT /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" +
		"\r\nGET /c HTTP/1.1\n\n" +
		"GET /d HTTP/1.1\r\nX: " + strings.Repeat("y", MaxLineBytes) + "z\r\n\r\n")
	want := frames(stream, []int{len(stream)})
	if want[len(want)-1] != CodeHeadersTooLarge {
		t.Fatalf("events %v, want the last head refused", want)
	}
	for _, sizes := range [][]int{{1}, {2, 3}, {7, 1, 4096}, {MaxLineBytes - 1}} {
		if got := frames(stream, sizes); !slices.Equal(got, want) {
			t.Errorf("chunks %v: events %v, want %v", sizes, got, want)
		}
	}
}

func TestDecodeErrorCutsLongMessages(t *testing.T) {
	e, ok := decodeError([]byte(`{"code":"internal","message":"` + strings.Repeat("m", 1<<20) + `"}`))
	if !ok || e.Code != CodeInternal || len(e.Message) > maxRemoteMessageBytes+3 {
		t.Errorf("decodeError kept a message of %d bytes (ok %v, code %q)", len(e.Message), ok, e.Code)
	}
}
