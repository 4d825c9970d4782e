package nodeapi

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// framer follows the HTTP/1.1 framing of one connection's byte stream as
// the server hands it to net/http: where each request head starts and
// ends, how long its lines are, and where its body ends. It enforces the
// protocol's head limits on the exact bytes net/http is about to parse,
// and the strict Content-Length rule, which net/http does not have (it
// trims spaces). It is pure: serverConn feeds it and acts on its events.
type framer struct {
	state   framerState
	lineLen int    // bytes of the current line so far, LF not counted
	last    byte   // the last byte of the current line so far
	line    []byte // the current header line, capped at MaxLineBytes+1
	lines   int    // non-empty lines of this head so far
	headLen int
	body    int64 // body bytes still to come in stateBody

	contentLength []string
	transferEnc   []string
	expect        []string
	folded        bool
}

type framerState int

const (
	stateHead      framerState = iota // inside a request head
	stateIdle                         // between requests: the next byte starts a head
	stateBody                         // inside a Content-Length body
	stateUntracked                    // after a chunked head: the connection closes after it
)

// frameEvent is what feed stopped at.
type frameEvent int

const (
	// evNone: every byte given was consumed.
	evNone frameEvent = iota
	// evHeadStart: the first byte of a new head comes next (nothing of it
	// was consumed yet).
	evHeadStart
	// evBody: the head ended and a body follows.
	evBody
	// evChunked: the head ended and a chunked body follows; the framer
	// stops tracking, and the connection must close after this request.
	evChunked
	// evRequestEnd: the request (head and body) ended with the last byte
	// consumed; what follows belongs to the next request.
	evRequestEnd
	// evRefuse: the head breaks a rule; refusal says how to answer.
	evRefuse
)

// refusal is an answer the server gives in net/http's place.
type refusal struct {
	status int
	code   string
	msg    string
}

// feed consumes p up to the first event and returns how many bytes it
// consumed. With evRefuse the consumed bytes must not reach net/http.
func (f *framer) feed(p []byte) (int, frameEvent, *refusal) {
	switch f.state {
	case stateIdle:
		f.startHead()
		return 0, evHeadStart, nil
	case stateBody:
		n := int(min(int64(len(p)), f.body))
		f.body -= int64(n)
		if f.body == 0 {
			f.state = stateIdle
			return n, evRequestEnd, nil
		}
		return n, evNone, nil
	case stateUntracked:
		return len(p), evNone, nil
	}
	return f.feedHead(p)
}

func (f *framer) startHead() {
	*f = framer{state: stateHead, line: f.line[:0]}
}

// feedHead consumes head bytes line by line.
func (f *framer) feedHead(p []byte) (int, frameEvent, *refusal) {
	off := 0
	for off < len(p) {
		seg := p[off:]
		nl := bytes.IndexByte(seg, '\n')
		if nl >= 0 {
			seg = seg[:nl]
		}
		if len(seg) > 0 {
			f.last = seg[len(seg)-1]
		}
		f.lineLen += len(seg)
		f.headLen += len(seg)
		if nl >= 0 {
			f.headLen++ // the LF
		}
		if f.lines > 0 && len(f.line) <= MaxLineBytes {
			f.line = append(f.line, seg[:min(len(seg), MaxLineBytes+1-len(f.line))]...)
		}
		off += len(seg)
		if r := f.checkSizes(); r != nil {
			return off, evRefuse, r
		}
		if nl < 0 {
			break
		}
		off++ // the LF
		if ev, r := f.endLine(); ev != evNone {
			return off, ev, r
		}
	}
	return off, evNone, nil
}

// checkSizes refuses a line or head over its limit as soon as it is over,
// without waiting for its end. A CR before the LF does not count.
func (f *framer) checkSizes() *refusal {
	n := f.lineLen
	if f.last == '\r' {
		n-- // maybe the CR of CR LF
	}
	switch {
	case n > MaxLineBytes && f.lines == 0:
		return &refusal{http.StatusRequestURITooLong, CodeURITooLong,
			"the request line is longer than " + strconv.Itoa(MaxLineBytes) + " bytes"}
	case n > MaxLineBytes:
		return &refusal{http.StatusRequestHeaderFieldsTooLarge, CodeHeadersTooLarge,
			"a header line is longer than " + strconv.Itoa(MaxLineBytes) + " bytes"}
	case f.headLen > MaxHeadBytes:
		return &refusal{http.StatusRequestHeaderFieldsTooLarge, CodeHeadersTooLarge,
			"the request head is longer than " + strconv.Itoa(MaxHeadBytes) + " bytes"}
	}
	return nil
}

// endLine handles a complete line (its LF consumed).
func (f *framer) endLine() (frameEvent, *refusal) {
	empty := f.lineLen == 0 || f.lineLen == 1 && f.last == '\r'
	line := bytes.TrimSuffix(f.line, []byte{'\r'})
	f.lineLen, f.last = 0, 0
	f.line = f.line[:0]
	switch {
	case empty && f.lines == 0:
		return evNone, nil // empty lines before the request line are skipped
	case empty:
		return f.endHead()
	case f.lines > 0:
		f.header(line)
	}
	f.lines++
	return evNone, nil
}

// header records the fields that decide the framing.
func (f *framer) header(line []byte) {
	if line[0] == ' ' || line[0] == '\t' {
		f.folded = true
		return
	}
	name, value, ok := bytes.Cut(line, []byte{':'})
	if !ok {
		return // net/http refuses it
	}
	v := string(bytes.TrimLeft(value, " \t"))
	switch strings.ToLower(string(name)) {
	case "content-length":
		f.contentLength = append(f.contentLength, v)
	case "transfer-encoding":
		f.transferEnc = append(f.transferEnc, v)
	case "expect":
		f.expect = append(f.expect, v)
	}
}

// endHead decides what follows the head, or refuses it.
func (f *framer) endHead() (frameEvent, *refusal) {
	bad := func(msg string) (frameEvent, *refusal) {
		return evRefuse, &refusal{http.StatusBadRequest, CodeBadRequest, msg}
	}
	if f.folded {
		return bad("obsolete line folding in the request head is not supported")
	}
	for _, e := range f.expect {
		if !strings.EqualFold(strings.TrimRight(e, " \t"), "100-continue") {
			return bad("unsupported Expect header: only 100-continue is")
		}
	}
	if len(f.transferEnc) > 0 {
		if len(f.contentLength) > 0 {
			return bad("a request must not carry both Transfer-Encoding and Content-Length")
		}
		if len(f.transferEnc) > 1 || !strings.EqualFold(strings.TrimRight(f.transferEnc[0], " \t"), "chunked") {
			return bad("unsupported Transfer-Encoding: only chunked is")
		}
		f.state = stateUntracked
		return evChunked, nil
	}
	if len(f.contentLength) == 0 {
		f.state = stateIdle
		return evRequestEnd, nil
	}
	n, ok := parseContentLength(f.contentLength)
	if !ok {
		return bad("Content-Length must be digits only, one value, at most 18 digits")
	}
	if n == 0 {
		f.state = stateIdle
		return evRequestEnd, nil
	}
	f.state, f.body = stateBody, n
	return evBody, nil
}

// parseContentLength accepts one or more equal values of 1 to 18 ASCII
// digits: no sign, no space, nothing else.
func parseContentLength(vals []string) (int64, bool) {
	for _, v := range vals {
		if v != vals[0] || len(v) == 0 || len(v) > 18 || strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(vals[0], 10, 64)
	return n, err == nil
}
