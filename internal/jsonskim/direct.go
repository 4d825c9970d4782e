package jsonskim

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// Direct decoding: the members of an object go straight into the fields
// of a zero struct, a plain string, integer, bool or []string by a fast
// path, anything else (and any value the fast path does not take: an
// escaped string, a number that is no integer, a type mismatch) through
// json.Unmarshal of the member's value into the field, which is what
// json.Unmarshal of the whole object does for that member. As there, a
// type mismatch is remembered and the other members are still decoded,
// while an error of a field's own UnmarshalJSON ends the decoding (the
// rest is still checked for syntax, which json.Unmarshal checks first).
//
// It is used only for a zero value, which it can reset and decode again
// when the value straddles the end of the buffered bytes.

// directErrs are the outcome of a direct decoding.
type directErrs struct {
	typ   error // the first type mismatch
	fatal error // an error that ended the decoding
}

func (e *directErrs) err() error {
	if e.fatal != nil {
		return e.fatal
	}
	return e.typ
}

// note records an error of storing one member.
func (e *directErrs) note(err error) {
	if err == nil {
		return
	}
	if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if e.typ == nil {
			e.typ = err
		}
		return
	}
	e.fatal = err
}

// decodeStruct decodes the object at i (b[i] is '{') into the struct v of
// shape sh, which may open at most depth levels, and returns the index
// after it. Syntax errors and errShort are returned; errors of storing
// members go to errs.
func (d *Decoder) decodeStruct(i int, sh *shape, v reflect.Value, depth int, errs *directErrs) (int, error) {
	s := &d.s
	b := s.buf
	if depth <= 0 {
		return 0, s.errAt(i, "exceeded max depth")
	}
	if i = s.ws(i + 1); i >= len(b) {
		return 0, s.short(i)
	}
	if b[i] == '}' {
		return i + 1, nil
	}
	for {
		if b[i] != '"' {
			return 0, s.errAt(i, "invalid character %s looking for beginning of object key string", describe(b[i]))
		}
		ke, err := s.str(i)
		if err != nil {
			return 0, err
		}
		f := sh.fieldFor(b[i:ke])
		vi, err := s.colon(ke)
		if err != nil {
			return 0, err
		}
		var ve int
		switch {
		case f != nil && f.kind == kindStruct && b[vi] == '{' && errs.fatal == nil:
			ve, err = d.decodeStruct(vi, f.sub, v.Field(f.index), depth-1, errs)
		default:
			if ve, err = s.value(vi, depth-1); err == nil && f != nil && errs.fatal == nil {
				errs.note(store(v.Field(f.index), f, b[vi:ve]))
			}
		}
		if err != nil {
			return 0, err
		}
		if i = s.ws(ve); i >= len(b) {
			return 0, s.short(i)
		}
		switch b[i] {
		case ',':
			if i = s.ws(i + 1); i >= len(b) {
				return 0, s.short(i)
			}
		case '}':
			return i + 1, nil
		default:
			return 0, s.errAt(i, "invalid character %s after object key:value pair", describe(b[i]))
		}
	}
}

// store puts the member's value raw (valid JSON) into field v.
func store(v reflect.Value, f *field, raw []byte) error {
	switch f.kind {
	case kindString:
		if str, ok := plainString(raw); ok {
			v.SetString(str)
			return nil
		}
	case kindBool:
		switch string(raw) {
		case "true":
			v.SetBool(true)
			return nil
		case "false":
			v.SetBool(false)
			return nil
		}
	case kindInt:
		if raw[0] == '-' || ('0' <= raw[0] && raw[0] <= '9') {
			if n, err := strconv.ParseInt(string(raw), 10, f.bits); err == nil {
				v.SetInt(n)
				return nil
			}
		}
	case kindStrings:
		if list, ok := plainStrings(raw); ok {
			sl := reflect.MakeSlice(v.Type(), len(list), len(list))
			for i, str := range list {
				sl.Index(i).SetString(str)
			}
			v.Set(sl)
			return nil
		}
	case kindUnmarshaler:
		return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
	}
	if string(raw) == "null" && (f.kind == kindString || f.kind == kindBool || f.kind == kindInt || f.kind == kindStruct) {
		return nil // null leaves such a field as it is
	}
	return json.Unmarshal(raw, v.Addr().Interface())
}

// plainString returns the string a literal stands for when it has no
// escapes and is valid UTF-8 (which encoding/json would change).
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') >= 0 || !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

// plainStrings returns the strings of an array of plain strings.
func plainStrings(raw []byte) ([]string, bool) {
	if raw[0] != '[' {
		return nil, false
	}
	out := []string{}
	i := 1
	for {
		i = skipSpace(raw, i)
		if i < len(raw) && raw[i] == ']' && len(out) == 0 {
			return out, true
		}
		if i >= len(raw) || raw[i] != '"' {
			return nil, false
		}
		end := bytes.IndexByte(raw[i+1:], '"')
		if end < 0 {
			return nil, false
		}
		str, ok := plainString(raw[i : i+end+2])
		if !ok {
			return nil, false
		}
		out = append(out, str)
		i = skipSpace(raw, i+end+2)
		switch {
		case i < len(raw) && raw[i] == ',':
			i++
		case i < len(raw) && raw[i] == ']':
			return out, true
		default:
			return nil, false
		}
	}
}

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
