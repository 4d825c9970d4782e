package jsonskim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Buffer sizes: the first read fills initialBuffer bytes; a value that
// does not fit in half the buffer doubles it, and each refill reads until
// the buffer is full, so a value of n bytes is scanned O(n) times in all.
const (
	initialBuffer = 64 << 10
	maxZeroReads  = 100 // a reader that returns nothing this often in a row is broken
)

// LimitError is a document longer than the decoder's limit.
type LimitError struct{ Limit int64 }

func (e *LimitError) Error() string {
	return fmt.Sprintf("document over the limit of %d bytes", e.Limit)
}

// Field handles one member of an object: Value is called with the
// decoder at the member's value, which it must consume with exactly one
// call of Decode, Skip, Object or Array.
type Field struct {
	Name  string
	Value func() error
}

// Decoder reads one JSON document from a stream. Its methods consume one
// value each, in document order.
type Decoder struct {
	r     io.Reader
	limit int64
	read  int64 // bytes read from r

	buf      []byte
	pos, end int   // unread bytes are buf[pos:end]
	base     int64 // document offset of buf[0]
	eof      bool
	s        scanner

	depth    int   // objects and arrays open through Object and Array
	consumed int   // values consumed at this level, to check handlers
	outer    []int // consumed of each level open through Object and Array
	shapes   map[reflect.Type]*shape
	reduced  []byte // scratch: the members Decode keeps
}

// NewDecoder returns a decoder that reads at most limit bytes of r.
func NewDecoder(r io.Reader, limit int64) *Decoder {
	return &Decoder{r: r, limit: limit, shapes: map[reflect.Type]*shape{}}
}

// sync points the scanner at the buffered bytes.
func (d *Decoder) sync() {
	d.s.buf, d.s.eof, d.s.base = d.buf[:d.end], d.eof, d.base
}

// fill keeps the unread bytes, growing the buffer when they take more
// than half of it, and reads until the buffer is full or r ends.
func (d *Decoder) fill() error {
	if d.eof {
		return nil
	}
	if d.pos > 0 {
		d.end = copy(d.buf, d.buf[d.pos:d.end])
		d.base += int64(d.pos)
		d.pos = 0
	}
	if len(d.buf) == 0 || d.end*2 > len(d.buf) {
		nb := make([]byte, max(initialBuffer, 2*len(d.buf)))
		copy(nb, d.buf[:d.end])
		d.buf = nb
	}
	for zero := 0; d.end < len(d.buf); {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		d.read += int64(n)
		switch {
		case d.read > d.limit:
			return &LimitError{Limit: d.limit}
		case errors.Is(err, io.EOF):
			d.eof = true
			return nil
		case err != nil:
			return fmt.Errorf("reading at byte %d: %w", d.base+int64(d.end), err)
		case n == 0:
			if zero++; zero >= maxZeroReads {
				return io.ErrNoProgress
			}
		default:
			zero = 0
		}
	}
	return nil
}

// run calls f, which scans from d.pos, until it has the bytes it needs.
func (d *Decoder) run(f func() (int, error)) (int, error) {
	for {
		d.sync()
		end, err := f()
		if !errors.Is(err, errShort) {
			return end, err
		}
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
}

// peek skips whitespace and returns the next byte.
func (d *Decoder) peek() (byte, error) {
	for {
		d.sync()
		d.pos = d.s.ws(d.pos)
		if d.pos < d.end {
			return d.buf[d.pos], nil
		}
		if d.eof {
			return 0, d.s.errAt(d.pos, "unexpected end of JSON input")
		}
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
}

// open consumes the opening byte of an object or array.
func (d *Decoder) open(want byte, what string) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c != want {
		return d.s.errAt(d.pos, "want %s, found %s", what, describe(c))
	}
	if d.depth >= MaxDepth {
		return d.s.errAt(d.pos, "exceeded max depth")
	}
	d.depth++
	d.outer = append(d.outer, d.consumed)
	d.pos++
	return nil
}

// close consumes the closing byte of the innermost object or array, which
// counts as one value of the level around it.
func (d *Decoder) close() {
	d.pos++
	d.depth--
	d.consumed = d.outer[len(d.outer)-1] + 1
	d.outer = d.outer[:len(d.outer)-1]
}

// next consumes the ',' or closing byte after an element or member and
// reports whether another one follows.
func (d *Decoder) next(closing byte, after string) (bool, error) {
	c, err := d.peek()
	switch {
	case err != nil:
		return false, err
	case c == ',':
		d.pos++
		return true, nil
	case c == closing:
		d.close()
		return false, nil
	}
	return false, d.s.errAt(d.pos, "invalid character %s after %s", describe(c), after)
}

// handle calls f, which must consume exactly one value.
func (d *Decoder) handle(what string, f func() error) error {
	before := d.consumed
	if err := f(); err != nil {
		return err
	}
	if n := d.consumed - before; n != 1 {
		return fmt.Errorf("jsonskim: the handler of %s consumed %d values, want 1", what, n)
	}
	return nil
}

// Object consumes an object, handing each member's value to the field
// whose name is its key (an exact match first, then a case-insensitive
// one, as encoding/json matches fields) and skipping, after checking
// them, the members no field names.
func (d *Decoder) Object(fields ...Field) error {
	if empty, err := d.begin('{', '}', "an object"); err != nil || empty {
		return err
	}
	for more := true; more; {
		c, err := d.peek()
		if err != nil {
			return err
		}
		if c != '"' {
			return d.s.errAt(d.pos, "invalid character %s looking for beginning of object key string", describe(c))
		}
		end, err := d.run(func() (int, error) { return d.s.str(d.pos) })
		if err != nil {
			return err
		}
		key, err := unquote(d.buf[d.pos:end])
		if err != nil {
			return err
		}
		d.pos = end
		if c, err := d.peek(); err != nil {
			return err
		} else if c != ':' {
			return d.s.errAt(d.pos, "invalid character %s after object key", describe(c))
		}
		d.pos++
		f := match(fields, key)
		if f == nil {
			err = d.Skip()
		} else {
			err = d.handle(fmt.Sprintf("member %q", key), f.Value)
		}
		if err != nil {
			return err
		}
		if more, err = d.next('}', "object key:value pair"); err != nil {
			return err
		}
	}
	return nil
}

// unquote returns the string a JSON string literal (checked) stands for.
func unquote(lit []byte) (string, error) {
	if bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1]), nil
	}
	var s string
	err := json.Unmarshal(lit, &s)
	return s, err
}

// match returns the field for key: exact, else case-insensitive.
func match(fields []Field, key string) *Field {
	for i := range fields {
		if fields[i].Name == key {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].Name, key) {
			return &fields[i]
		}
	}
	return nil
}

// begin opens an object or an array and reports whether it is empty,
// in which case it is closed already.
func (d *Decoder) begin(open, end byte, what string) (bool, error) {
	if err := d.open(open, what); err != nil {
		return false, err
	}
	c, err := d.peek()
	if err != nil {
		return false, err
	}
	if c == end {
		d.close()
		return true, nil
	}
	return false, nil
}

// Array consumes an array, calling each with the decoder at every
// element, which each must consume with exactly one call of Decode,
// Skip, Object or Array.
func (d *Decoder) Array(each func() error) error {
	if empty, err := d.begin('[', ']', "an array"); err != nil || empty {
		return err
	}
	for more := true; more; {
		if err := d.handle("an array element", each); err != nil {
			return err
		}
		var err error
		if more, err = d.next(']', "array element"); err != nil {
			return err
		}
	}
	return nil
}

// Null consumes the next value if it is null, and reports whether it was.
func (d *Decoder) Null() (bool, error) {
	c, err := d.peek()
	if err != nil || c != 'n' {
		return false, err
	}
	return true, d.Skip()
}

// Skip consumes a value, checking that it is valid JSON.
func (d *Decoder) Skip() error {
	if _, err := d.peek(); err != nil {
		return err
	}
	end, err := d.run(func() (int, error) { return d.s.value(d.pos, MaxDepth-d.depth) })
	if err != nil {
		return err
	}
	d.pos = end
	d.consumed++
	return nil
}

// Decode consumes a value and decodes it into v as json.Unmarshal would.
// Of an object decoded into a struct, only the members a field of the
// struct may take reach encoding/json; the others are checked and
// skipped.
func (d *Decoder) Decode(v any) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	start := d.base + int64(d.pos)
	sh := d.shape(v)
	if rv := reflect.ValueOf(v); sh != nil && sh.direct && c == '{' && rv.Elem().Kind() == reflect.Struct && rv.Elem().IsZero() {
		return d.decodeDirect(rv.Elem(), sh, start)
	}
	var raw []byte
	if sh != nil && c == '{' {
		end, err := d.run(func() (int, error) {
			var end int
			var err error
			d.reduced, end, err = d.reduce(d.reduced[:0], d.pos, sh, MaxDepth-d.depth)
			return end, err
		})
		if err != nil {
			return err
		}
		raw, d.pos = d.reduced, end
	} else {
		end, err := d.run(func() (int, error) { return d.s.value(d.pos, MaxDepth-d.depth) })
		if err != nil {
			return err
		}
		raw, d.pos = d.buf[d.pos:end], end
	}
	d.consumed++
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding the value at byte %d: %w", start, err)
	}
	return nil
}

// decodeDirect decodes the object at d.pos into the zero struct v (see
// direct.go), starting over from a zero value when it must read more.
func (d *Decoder) decodeDirect(v reflect.Value, sh *shape, start int64) error {
	var errs directErrs
	end, err := d.run(func() (int, error) {
		v.SetZero()
		errs = directErrs{}
		return d.decodeStruct(d.pos, sh, v, MaxDepth-d.depth, &errs)
	})
	if err != nil {
		v.SetZero() // as json.Unmarshal, which checks the syntax before it stores anything
		return err
	}
	d.pos = end
	d.consumed++
	if err := errs.err(); err != nil {
		return fmt.Errorf("decoding the value at byte %d: %w", start, err)
	}
	return nil
}

// shape returns the shape of the value v points to (nil: keep it whole).
func (d *Decoder) shape(v any) *shape {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return nil // json.Unmarshal reports it
	}
	sh, ok := d.shapes[t]
	if !ok {
		sh = shapeOf(t, map[reflect.Type]*shape{})
		d.shapes[t] = sh
	}
	return sh
}

// reduce appends to dst the object at i (b[i] is '{') with only the
// members sh may take (and of those whose field is a struct, only what
// that struct may take), checking every member, and returns the index
// after the object. The object may open at most depth levels.
func (d *Decoder) reduce(dst []byte, i int, sh *shape, depth int) ([]byte, int, error) {
	s := &d.s
	b := s.buf
	if depth <= 0 {
		return dst, 0, s.errAt(i, "exceeded max depth")
	}
	dst = append(dst, '{')
	if i = s.ws(i + 1); i >= len(b) {
		return dst, 0, s.short(i)
	}
	if b[i] == '}' {
		return append(dst, '}'), i + 1, nil
	}
	kept := 0
	for {
		if b[i] != '"' {
			return dst, 0, s.errAt(i, "invalid character %s looking for beginning of object key string", describe(b[i]))
		}
		ke, err := s.str(i)
		if err != nil {
			return dst, 0, err
		}
		keep, sub := sh.pick(b[i+1 : ke-1])
		vi, err := s.colon(ke)
		if err != nil {
			return dst, 0, err
		}
		if keep {
			if kept++; kept > 1 {
				dst = append(dst, ',')
			}
			dst = append(append(dst, b[i:ke]...), ':')
		}
		var ve int
		if keep && sub != nil && b[vi] == '{' {
			dst, ve, err = d.reduce(dst, vi, sub, depth-1)
		} else {
			ve, err = s.value(vi, depth-1)
			if keep && err == nil {
				dst = append(dst, b[vi:ve]...)
			}
		}
		if err != nil {
			return dst, 0, err
		}
		if i = s.ws(ve); i >= len(b) {
			return dst, 0, s.short(i)
		}
		switch b[i] {
		case ',':
			if i = s.ws(i + 1); i >= len(b) {
				return dst, 0, s.short(i)
			}
		case '}':
			return append(dst, '}'), i + 1, nil
		default:
			return dst, 0, s.errAt(i, "invalid character %s after object key:value pair", describe(b[i]))
		}
	}
}

// End checks that only whitespace follows the document's value.
func (d *Decoder) End() error {
	for {
		d.sync()
		d.pos = d.s.ws(d.pos)
		if d.pos < d.end {
			return d.s.errAt(d.pos, "invalid character %s after top-level value", describe(d.buf[d.pos]))
		}
		if d.eof {
			return nil
		}
		if err := d.fill(); err != nil {
			return err
		}
	}
}
