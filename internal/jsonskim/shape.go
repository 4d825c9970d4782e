package jsonskim

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"unicode"
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

	// fields, when direct, are the struct's fields as encoding/json names
	// them, for decoding members straight into them (direct.go). A struct
	// whose names are ambiguous (two fields of one name, or of names that
	// differ only in case) or that asks for quoted values (",string") is
	// never decoded directly.
	fields    []field
	direct    bool
	byLen     [64][]int // fields with an ASCII name of n bytes, by n
	fieldLong bool      // a field name of 64 bytes or more, or not ASCII
}

// field is one field of a directly decoded struct.
type field struct {
	name  string // encoding/json's name for it: the tag's, or the Go name
	lower string // name lowercased, when ASCII
	ascii bool
	index int
	kind  fieldKind
	bits  int    // of an integer kind
	sub   *shape // a struct field's shape, when kind is kindStruct
}

// fieldKind is how a member's value is stored into a field.
type fieldKind uint8

const (
	kindOther       fieldKind = iota // json.Unmarshal of the member's value into the field
	kindString                       // a string kind
	kindBool                         // a bool kind
	kindInt                          // a signed integer kind
	kindStrings                      // []string
	kindStruct                       // a struct decoded directly
	kindUnmarshaler                  // the field's own UnmarshalJSON
)

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
	sh := &shape{ascii: true, direct: true}
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
		name, opts, _ := strings.Cut(tag, ",")
		for _, n := range []string{name, f.Name} {
			if n != "" {
				sh.add(n, sub)
			}
		}
		if !isValidTag(name) {
			name = f.Name
		}
		if slices.Contains(strings.Split(opts, ","), "string") {
			sh.direct = false
		}
		sh.addField(field{name: name, index: i}, f.Type, sub)
	}
	seen[t] = sh
	return sh
}

// isValidTag is encoding/json's rule for a tag's name: otherwise it uses
// the Go name.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// addField adds a field for direct decoding, of type t.
func (sh *shape) addField(f field, t reflect.Type, sub *shape) {
	f.ascii = true
	for i := 0; i < len(f.name); i++ {
		if f.name[i] >= 0x80 {
			f.ascii = false
		}
	}
	f.lower = strings.ToLower(f.name)
	if f.ascii && len(f.name) < 64 {
		sh.byLen[len(f.name)] = append(sh.byLen[len(f.name)], len(sh.fields))
	} else {
		sh.fieldLong = true
	}
	for _, o := range sh.fields {
		if strings.EqualFold(o.name, f.name) {
			sh.direct = false // encoding/json's rules for ambiguous names are not repeated here
		}
	}
	switch {
	case decodesItself(t):
		if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
			f.kind = kindUnmarshaler
		}
	case t.Kind() == reflect.String:
		f.kind = kindString
	case t.Kind() == reflect.Bool:
		f.kind = kindBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		f.kind, f.bits = kindInt, t.Bits()
	case t.Kind() == reflect.Slice && t.Elem() == reflect.TypeFor[string]():
		f.kind = kindStrings
	case t.Kind() == reflect.Struct && sub != nil && sub.direct:
		f.kind, f.sub = kindStruct, sub
	}
	sh.fields = append(sh.fields, f)
}

// fieldFor returns the field a member's key (its literal, quotes included)
// goes to: the one named exactly so, else one named so in another case;
// nil when none.
func (sh *shape) fieldFor(lit []byte) *field {
	key := lit[1 : len(lit)-1]
	for _, c := range key {
		if c == '\\' || c >= 0x80 {
			return sh.fieldForSlow(lit)
		}
	}
	if sh.fieldLong || len(key) >= 64 {
		return sh.fieldForSlow(lit)
	}
	// An ASCII key matches, exactly or not, only ASCII names of its length.
	same := sh.byLen[len(key)]
	for _, i := range same {
		if string(key) == sh.fields[i].name {
			return &sh.fields[i]
		}
	}
	for _, i := range same {
		if asciiEqualLower(key, sh.fields[i].lower) {
			return &sh.fields[i]
		}
	}
	return nil
}

// fieldForSlow is fieldFor for a key with escapes or non-ASCII bytes.
func (sh *shape) fieldForSlow(lit []byte) *field {
	key, err := unquote(lit)
	if err != nil {
		return nil
	}
	for i := range sh.fields {
		if key == sh.fields[i].name {
			return &sh.fields[i]
		}
	}
	for i := range sh.fields {
		if strings.EqualFold(key, sh.fields[i].name) {
			return &sh.fields[i]
		}
	}
	return nil
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
