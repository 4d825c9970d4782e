package nodeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// This file holds the protocol's body decoders. encoding/json matches
// struct field names case-insensitively ({"Revision":6} would set
// revision) and keeps the last of duplicate keys, so the decoders split an
// object into its members first and compare keys exactly.

// member is one key and its raw value, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// members splits b, which must hold exactly one JSON object and nothing
// after it, into its members. A key given twice is refused.
func members(b []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil, errors.New("empty body: send a JSON object")
	case err != nil:
		return nil, jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("the body must be a JSON object")
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonError(err)
		}
		key, _ := tok.(string) // the decoder yields object keys as strings
		if seen[key] {
			return nil, fmt.Errorf("field %s appears twice", quote(key))
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, jsonError(err)
		}
		out = append(out, member{key: key, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("malformed JSON: data after the JSON value")
	}
	return out, nil
}

// jsonError describes a decoding error without quoting more than
// MaxQuoteBytes of it: encoding/json's messages may hold a whole literal
// of the input ("cannot unmarshal number 1000...").
func jsonError(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, cut(se.Error()))
	}
	return fmt.Errorf("malformed JSON: %s", cut(err.Error()))
}

// requestMembers splits a request body and refuses keys outside allowed
// (case-sensitive) and missing required ones. It returns the values by key.
func requestMembers(b []byte, allowed ...string) (map[string]json.RawMessage, *Error) {
	ms, err := members(b)
	if err != nil {
		return nil, badRequest(err.Error())
	}
	out := make(map[string]json.RawMessage, len(ms))
	for _, m := range ms {
		known := false
		for _, a := range allowed {
			known = known || m.key == a
		}
		if !known {
			return nil, badRequest(fmt.Sprintf("unknown field %s: the fields are %s (names are case-sensitive)", quote(m.key), quoteList(allowed)))
		}
		out[m.key] = m.value
	}
	for _, a := range allowed {
		if _, ok := out[a]; !ok {
			return nil, badRequest(fmt.Sprintf("field %s is required", strconv.Quote(a)))
		}
	}
	return out, nil
}

func badRequest(msg string) *Error { return &Error{Code: CodeBadRequest, Message: msg} }

func quoteList(ss []string) string {
	var b []byte
	for i, s := range ss {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendQuote(b, s)
	}
	return string(b)
}

// decodeRevision reads an unsigned 64-bit integer written as a plain JSON
// number (no sign, fraction or exponent).
func decodeRevision(raw json.RawMessage) (uint64, *Error) {
	r, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, badRequest(`"revision" must be an integer from 0 to 18446744073709551615`)
	}
	return r, nil
}

// decodePeerNames reads an array of at most MaxPeers node names; every
// name must pass CheckNodeName. Too many entries are refused before any
// name is looked at.
func decodePeerNames(raw json.RawMessage) ([]string, *Error) {
	notArray := badRequest(`"peers" must be an array of node names such as ["hello@10.42.3.7"]`)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, notArray
	}
	names := []string{}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		s, ok := tok.(string)
		if err != nil || !ok {
			return nil, notArray
		}
		if n++; n <= MaxPeers {
			names = append(names, s)
		}
	}
	if n > MaxPeers {
		return nil, &Error{Code: CodeTooManyPeers, Message: fmt.Sprintf("a peer set holds at most %d peers, this one has %d", MaxPeers, n)}
	}
	for _, s := range names {
		if err := mesh.CheckNodeName(s); err != nil {
			return nil, &Error{Code: CodeBadNodeName, Message: err.Error()}
		}
	}
	return names, nil
}

// decodeString reads a JSON string.
func decodeString(name string, raw json.RawMessage) (string, *Error) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", badRequest(fmt.Sprintf("%s must be a string", strconv.Quote(name)))
	}
	return s, nil
}

// DecodeSetPeersRequest decodes and checks a PUT /v1/peers body: exactly
// the fields "revision" and "peers", at most MaxPeers valid node names.
func DecodeSetPeersRequest(b []byte) (SetPeersRequest, *Error) {
	m, e := requestMembers(b, "revision", "peers")
	if e != nil {
		return SetPeersRequest{}, e
	}
	rev, e := decodeRevision(m["revision"])
	if e != nil {
		return SetPeersRequest{}, e
	}
	peers, e := decodePeerNames(m["peers"])
	if e != nil {
		return SetPeersRequest{}, e
	}
	return SetPeersRequest{Revision: rev, Peers: peers}, nil
}

// DecodeLeaveRequest decodes a POST /v1/leave body: exactly "revision".
func DecodeLeaveRequest(b []byte) (LeaveRequest, *Error) {
	m, e := requestMembers(b, "revision")
	if e != nil {
		return LeaveRequest{}, e
	}
	rev, e := decodeRevision(m["revision"])
	if e != nil {
		return LeaveRequest{}, e
	}
	return LeaveRequest{Revision: rev}, nil
}

// DecodeAnnouncement decodes and checks a POST /v1/announce body: exactly
// "event", "node" and "ip", each valid.
func DecodeAnnouncement(b []byte) (Announcement, *Error) {
	m, e := requestMembers(b, "event", "node", "ip")
	if e != nil {
		return Announcement{}, e
	}
	var a Announcement
	for _, f := range []struct {
		name string
		dst  *string
	}{{"event", &a.Event}, {"node", &a.Node}, {"ip", &a.IP}} {
		if *f.dst, e = decodeString(f.name, m[f.name]); e != nil {
			return Announcement{}, e
		}
	}
	if e := checkAnnouncement(a); e != nil {
		return Announcement{}, e
	}
	return a, nil
}

// DecodeStatus decodes a status body (GET /v1/status and the answers of
// peers and leave) as the client reads it: field names match exactly,
// unknown fields are ignored (later minor versions may add some), known
// fields must have their types.
func DecodeStatus(b []byte) (Status, error) {
	ms, err := members(b)
	if err != nil {
		return Status{}, err
	}
	var st Status
	for _, m := range ms {
		var dst any
		switch m.key {
		case "node":
			dst = &st.Node
		case "connected":
			dst = &st.Connected
		case "managed":
			dst = &st.Managed
		case "revision":
			dst = &st.Revision
		case "leaving":
			dst = &st.Leaving
		case "otpRelease":
			dst = &st.OTPRelease
		case "atoms_created":
			dst = &st.AtomsCreated
		case "atom_budget":
			dst = &st.AtomBudget
		case "flags":
			if st.Flags, err = decodeFlags(m.value); err != nil {
				return Status{}, err
			}
			continue
		case "failed":
			if st.Failed, err = decodeFailed(m.value); err != nil {
				return Status{}, err
			}
			continue
		default:
			continue
		}
		if err := json.Unmarshal(m.value, dst); err != nil {
			return Status{}, fmt.Errorf("field %q: %s", m.key, cut(err.Error()))
		}
	}
	return st, nil
}

func decodeFlags(raw json.RawMessage) (Flags, error) {
	var f Flags
	if string(raw) == "null" {
		return f, nil
	}
	ms, err := members(raw)
	if err != nil {
		return f, fmt.Errorf("field \"flags\": %w", err)
	}
	for _, m := range ms {
		var dst any
		switch m.key {
		case "connectAll":
			dst = &f.ConnectAll
		case "preventOverlappingPartitions":
			dst = &f.PreventOverlappingPartitions
		case "netTicktime":
			dst = &f.NetTicktime
		default:
			continue
		}
		if err := json.Unmarshal(m.value, dst); err != nil {
			return f, fmt.Errorf("field \"flags.%s\": %s", m.key, cut(err.Error()))
		}
	}
	return f, nil
}

func decodeFailed(raw json.RawMessage) ([]PeerError, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("field \"failed\": %s", cut(err.Error()))
	}
	var out []PeerError
	for i, it := range items {
		ms, err := members(it)
		if err != nil {
			return nil, fmt.Errorf("field \"failed[%d]\": %w", i, err)
		}
		var pe PeerError
		for _, m := range ms {
			var dst *string
			switch m.key {
			case "node":
				dst = &pe.Node
			case "reason":
				dst = &pe.Reason
			default:
				continue
			}
			if err := json.Unmarshal(m.value, dst); err != nil {
				return nil, fmt.Errorf("field \"failed[%d].%s\": %s", i, m.key, cut(err.Error()))
			}
		}
		out = append(out, pe)
	}
	return out, nil
}

// maxRemoteMessageBytes caps the message of an error answer the client
// keeps (it ends up in logs and status): an agent's messages are short.
const maxRemoteMessageBytes = 512

// decodeError reads an error body {code, message}, the message cut to
// maxRemoteMessageBytes; ok is false when the body is not one.
func decodeError(b []byte) (Error, bool) {
	ms, err := members(b)
	if err != nil {
		return Error{}, false
	}
	var e Error
	for _, m := range ms {
		switch m.key {
		case "code":
			_ = json.Unmarshal(m.value, &e.Code)
		case "message":
			_ = json.Unmarshal(m.value, &e.Message)
		}
	}
	if len(e.Message) > maxRemoteMessageBytes {
		e.Message = strings.ToValidUTF8(e.Message[:maxRemoteMessageBytes], "") + "..."
	}
	if len(e.Code) > MaxQuoteBytes {
		e.Code = e.Code[:MaxQuoteBytes]
	}
	return e, e.Code != ""
}
