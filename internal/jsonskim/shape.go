package jsonskim

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// shape is what a struct type can take from a JSON object: the member
// names encoding/json could match to one of its fields, and for a field
// that is itself a plain struct, that struct's shape. A nil shape takes
// everything (the value is kept whole).
type shape struct {
	names []string // lowercased when ascii, each once
	subs  []*shape // per name: the nested shape, or nil (keep the value whole)
	ascii bool     // every name is ASCII
	lens  uint64   // bit n set: a name of n bytes (n < 64) exists
	long  bool     // a name of 64 bytes or more exists
}

// shapeOf returns the shape of t, or nil when values of t must be kept
// whole: t is not a struct (or pointer to one), decodes itself, or has an
// embedded field (whose promoted fields encoding/json would match).
// seen guards against recursive types.
func shapeOf(t reflect.Type, seen map[reflect.Type]*shape) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || decodesItself(t) {
		return nil
	}
	if sh, ok := seen[t]; ok {
		return sh // nil while being built: a recursive field is kept whole
	}
	seen[t] = nil
	sh := &shape{ascii: true}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil
		}
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		sub := shapeOf(f.Type, seen)
		// The tag's name, and the Go name in case encoding/json finds the
		// tag's name invalid and falls back to it: taking a name too many
		// only keeps a member encoding/json then ignores.
		for _, name := range []string{strings.Split(tag, ",")[0], f.Name} {
			if name != "" {
				sh.add(name, sub)
			}
		}
	}
	seen[t] = sh
	return sh
}

// decodesItself reports whether encoding/json decodes t (or *t) with its
// own method rather than member by member.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	um, tm := reflect.TypeFor[json.Unmarshaler](), reflect.TypeFor[encoding.TextUnmarshaler]()
	return t.Implements(um) || p.Implements(um) || t.Implements(tm) || p.Implements(tm)
}

func (sh *shape) add(name string, sub *shape) {
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			sh.ascii = false
		}
	}
	if sh.ascii {
		name = strings.ToLower(name)
	}
	if slices.Contains(sh.names, name) {
		return
	}
	sh.names = append(sh.names, name)
	sh.subs = append(sh.subs, sub)
	if len(name) < 64 {
		sh.lens |= 1 << len(name)
	} else {
		sh.long = true
	}
}

// pick reports whether a member with this raw key (the bytes between the
// quotes) may be taken by a field, and the field's nested shape. A key
// with escapes or non-ASCII bytes is always taken.
func (sh *shape) pick(key []byte) (bool, *shape) {
	for _, c := range key {
		if c == '\\' || c >= 0x80 {
			return true, nil
		}
	}
	if !sh.ascii {
		for i, name := range sh.names {
			if bytes.EqualFold(key, []byte(name)) {
				return true, sh.subs[i]
			}
		}
		return false, nil
	}
	// ASCII names fold only to names of the same length.
	if n := len(key); (n < 64 && sh.lens&(1<<n) == 0) || (n >= 64 && !sh.long) {
		return false, nil
	}
	for i, name := range sh.names {
		if asciiEqualLower(key, name) {
			return true, sh.subs[i]
		}
	}
	return false, nil
}

// asciiEqualLower reports whether key, lowercased, is lower (ASCII only).
func asciiEqualLower(key []byte, lower string) bool {
	if len(key) != len(lower) {
		return false
	}
	for i := range key {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
