package jsonskim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxDepth bounds the nesting of arrays and objects, as encoding/json's
// own limit does: deeper input is an error, never a deep recursion.
const MaxDepth = 10000

// errShort says a scan reached the end of the buffered bytes before the
// end of what it scans; the decoder reads more and scans again.
var errShort = errors.New("jsonskim: need more input")

// SyntaxError is input that is not valid JSON.
type SyntaxError struct {
	msg    string
	Offset int64 // of the offending byte in the document
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.msg)
}

// scanner finds the ends of values in a buffer, checking their syntax.
// Offsets it returns are indexes into the buffer; base is the document
// offset of the buffer's first byte, for errors. With eof false, reaching
// the buffer's end is errShort; with eof true, a syntax error.
type scanner struct {
	buf   []byte
	eof   bool
	base  int64
	stack []byte // open arrays ('[') and objects ('{') of value
}

func (s *scanner) errAt(i int, format string, args ...any) error {
	return &SyntaxError{msg: fmt.Sprintf(format, args...), Offset: s.base + int64(i)}
}

// short is the error for reaching the end of the buffer at i.
func (s *scanner) short(i int) error {
	if s.eof {
		return s.errAt(i, "unexpected end of JSON input")
	}
	return errShort
}

// describe names a byte for an error message as encoding/json does.
func describe(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c < 0x20 || c >= 0x7f:
		return fmt.Sprintf("byte 0x%02x", c)
	}
	return "'" + string(c) + "'"
}

// ws returns the index of the first byte at or after i that is not
// whitespace (possibly len(buf)).
func (s *scanner) ws(i int) int {
	for i < len(s.buf) {
		switch s.buf[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value returns the index just after the value starting at i (no leading
// whitespace), which nests at most depth levels below it.
func (s *scanner) value(i, depth int) (int, error) {
	b := s.buf
	if i < len(b) && b[i] == '"' {
		return s.str(i) // most values: no nesting to track
	}
	st := s.stack[:0]
	for {
		// A value starts at i.
		if i >= len(b) {
			return 0, s.short(i)
		}
		var err error
		switch c := b[i]; c {
		case '{', '[':
			if len(st) >= depth {
				return 0, s.errAt(i, "exceeded max depth")
			}
			st = append(st, c)
			if i = s.ws(i + 1); i >= len(b) {
				return 0, s.short(i)
			}
			if closing := b[i]; (c == '{' && closing == '}') || (c == '[' && closing == ']') {
				st = st[:len(st)-1]
				i++
				break
			}
			if c == '{' {
				if i, err = s.memberKey(i); err != nil {
					return 0, err
				}
			}
			continue // the first element, or member value
		case '"':
			i, err = s.str(i)
		case 't':
			i, err = s.literal(i, "true")
		case 'f':
			i, err = s.literal(i, "false")
		case 'n':
			i, err = s.literal(i, "null")
		default:
			i, err = s.number(i)
		}
		if err != nil {
			return 0, err
		}
		// After a value: close what ends here, or find the next value.
		for {
			if len(st) == 0 {
				s.stack = st[:0] // keep what it grew to
				return i, nil
			}
			if i = s.ws(i); i >= len(b) {
				return 0, s.short(i)
			}
			top, c := st[len(st)-1], b[i]
			switch {
			case c == ',' && top == '{':
				if i, err = s.memberKey(s.ws(i + 1)); err != nil {
					return 0, err
				}
			case c == ',':
				if i = s.ws(i + 1); i >= len(b) {
					return 0, s.short(i)
				}
			case (c == '}' && top == '{') || (c == ']' && top == '['):
				st = st[:len(st)-1]
				i++
				continue
			case top == '{':
				return 0, s.errAt(i, "invalid character %s after object key:value pair", describe(c))
			default:
				return 0, s.errAt(i, "invalid character %s after array element", describe(c))
			}
			break
		}
	}
}

// memberKey reads `"key" :` at i and returns the index of the member's
// value (whitespace skipped).
func (s *scanner) memberKey(i int) (int, error) {
	if i >= len(s.buf) {
		return 0, s.short(i)
	}
	if s.buf[i] != '"' {
		return 0, s.errAt(i, "invalid character %s looking for beginning of object key string", describe(s.buf[i]))
	}
	i, err := s.str(i)
	if err != nil {
		return 0, err
	}
	return s.colon(i)
}

// colon reads the ':' after a key at i (whitespace before it allowed)
// and returns the index of the value (whitespace skipped).
func (s *scanner) colon(i int) (int, error) {
	if i = s.ws(i); i >= len(s.buf) {
		return 0, s.short(i)
	}
	if s.buf[i] != ':' {
		return 0, s.errAt(i, "invalid character %s after object key", describe(s.buf[i]))
	}
	if i = s.ws(i + 1); i >= len(s.buf) {
		return 0, s.short(i)
	}
	return i, nil
}

// Word masks for finding control characters eight bytes at a time.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// stop returns the index of the first byte of b that a string scan must
// look at, a backslash or a byte below 0x20, or len(b).
func stop(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := x ^ (lsb * '\\')
		if ((x-lsb*0x20)&^x|(y-lsb)&^y)&msb != 0 {
			break
		}
	}
	for i < len(b) && b[i] != '\\' && b[i] >= 0x20 {
		i++
	}
	return i
}

// str returns the index just after the string starting at i (b[i] is
// '"'), checking its escapes and that it has no control characters.
// Invalid UTF-8 is accepted, as encoding/json accepts it. The closing
// quote is found with bytes.IndexByte (vectorised); the bytes before it
// are checked a word at a time.
func (s *scanner) str(i int) (int, error) {
	b := s.buf
	i++
	quote := -1 // the next '"' at or after i, or len(b); found again only once passed
	for {
		if quote < i {
			if quote = bytes.IndexByte(b[i:], '"'); quote < 0 {
				quote = len(b) // no end in the buffer: check what is there
			} else {
				quote += i
			}
		}
		i += stop(b[i:quote])
		switch {
		case i >= len(b):
			return 0, s.short(i)
		case b[i] == '"':
			return i + 1, nil
		case b[i] < 0x20:
			return 0, s.errAt(i, "invalid character %s in string literal", describe(b[i]))
		}
		n, err := s.escape(i)
		if err != nil {
			return 0, err
		}
		i += n
	}
}

// escape checks the escape at i (b[i] is '\\') and returns its length.
func (s *scanner) escape(i int) (int, error) {
	b := s.buf
	if i+1 >= len(b) {
		return 0, s.short(i + 1)
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		for k := i + 2; k < i+6; k++ {
			if k >= len(b) {
				return 0, s.short(k)
			}
			if !isHex(b[k]) {
				return 0, s.errAt(k, "invalid character %s in \\u hexadecimal character escape", describe(b[k]))
			}
		}
		return 6, nil
	}
	return 0, s.errAt(i+1, "invalid character %s in string escape code", describe(b[i+1]))
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digitsFrom returns the index of the first non-digit at or after i.
func digitsFrom(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// literal checks the literal word at i.
func (s *scanner) literal(i int, word string) (int, error) {
	b := s.buf
	for k := 0; k < len(word); k++ {
		if i+k >= len(b) {
			return 0, s.short(i + k)
		}
		if b[i+k] != word[k] {
			return 0, s.errAt(i+k, "invalid character %s in literal %s (expecting '%c')", describe(b[i+k]), word, word[k])
		}
	}
	return i + len(word), nil
}

// number returns the index just after the number at i: -?(0|[1-9]d*)
// (.d+)?([eE][+-]?d+)?. What follows it is checked by the caller.
func (s *scanner) number(i int) (int, error) {
	b := s.buf
	start := i
	at := func(k int) (byte, bool) {
		if k < len(b) {
			return b[k], true
		}
		return 0, false
	}
	c, ok := at(i)
	if ok && c == '-' {
		i++
		c, ok = at(i)
	}
	switch {
	case !ok:
		return 0, s.short(i)
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i = digitsFrom(b, i+1)
	case i == start:
		return 0, s.errAt(i, "invalid character %s looking for beginning of value", describe(c))
	default:
		return 0, s.errAt(i, "invalid character %s in numeric literal", describe(c))
	}
	digits := func(what string) error {
		c, ok := at(i)
		if !ok {
			return s.short(i)
		}
		if !isDigit(c) {
			return s.errAt(i, "invalid character %s %s", describe(c), what)
		}
		i = digitsFrom(b, i+1)
		return nil
	}
	if c, ok = at(i); ok && c == '.' {
		i++
		if err := digits("after decimal point in numeric literal"); err != nil {
			return 0, err
		}
	}
	if c, ok = at(i); ok && (c == 'e' || c == 'E') {
		i++
		if c, ok = at(i); ok && (c == '+' || c == '-') {
			i++
		}
		if err := digits("in exponent of numeric literal"); err != nil {
			return 0, err
		}
	}
	if i >= len(b) && !s.eof {
		return 0, errShort // more digits may follow
	}
	return i, nil
}
