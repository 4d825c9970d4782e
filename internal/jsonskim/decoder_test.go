package jsonskim

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// The differential tests decode the same input with Decode and with
// json.Unmarshal into fresh values of a type, and want the same value and
// the same kind of outcome: nil, a syntax error, or a type error.

type inner struct {
	A string `json:"a"`
	N int    `json:"n"`
}

// upper decodes itself: Decode must hand it the whole value.
type upper string

func (u *upper) UnmarshalJSON(b []byte) error {
	s := string(b) // a non-string is kept as its JSON text
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	*u = upper(strings.ToUpper(s))
	return nil
}

// strict fails on the string "fail": an error of a field's own decoder.
type strict string

var errStrict = errors.New("strict: fail")

func (s *strict) UnmarshalJSON(b []byte) error {
	if string(b) == `"fail"` {
		return errStrict
	}
	*s = strict(b)
	return nil
}

type target struct {
	ID     string           `json:"id"`
	Name   string           // no tag: the Go name
	Count  int64            `json:"count"`
	F      float64          `json:"f"`
	List   []string         `json:"list"`
	M      map[string]upper `json:"m"`
	In     inner            `json:"in"`
	P      *inner           `json:"p"`
	Any    any              `json:"any"`
	Skip   string           `json:"-"`
	Raw    json.RawMessage  `json:"raw"`
	Bad    string           `json:"bad name!"` // an invalid tag: encoding/json uses "Bad"
	Opt    string           `json:",omitempty"`
	U      upper            `json:"u"`
	S      strict           `json:"s"`
	B      bool             `json:"b"`
	Small  int8             `json:"small"`
	Labels struct {
		Stack upper `json:"io.rancher.stack.name"`
	} `json:"labels"`
	hidden string //nolint:unused // an unexported field takes nothing
}

type withEmbedded struct {
	inner
	X int `json:"x"`
}

type recursive struct {
	Name string     `json:"name"`
	Next *recursive `json:"next"`
}

// kindOf classifies an outcome.
func kindOf(err error) string {
	var syn *SyntaxError
	var jsyn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, errStrict):
		return "strict"
	case errors.As(err, &syn), errors.As(err, &jsyn):
		return "syntax"
	case errors.As(err, &typ):
		return "type"
	}
	return "other: " + err.Error()
}

// outcome is what decoding an input gave.
type outcome struct {
	v   any
	err error
	// trailing: what follows the value (checked after it was decoded)
	// failed the document.
	trailing bool
}

// decodeBoth decodes input into two fresh values made by mk, with
// encoding/json and with Decode then End (a whole document's outcome).
func decodeBoth(input []byte, mk func() any, r func(io.Reader) io.Reader) (outcome, outcome) {
	want, got := outcome{v: mk()}, outcome{v: mk()}
	want.err = json.Unmarshal(input, want.v)
	d := NewDecoder(r(strings.NewReader(string(input))), int64(len(input))+1)
	got.err = d.Decode(got.v)
	if k := kindOf(got.err); k == "ok" || k == "type" {
		if err := d.End(); err != nil {
			got.err, got.trailing = err, true
		}
	}
	return want, got
}

func checkSame(t *testing.T, input []byte, mk func() any, r func(io.Reader) io.Reader) {
	t.Helper()
	want, got := decodeBoth(input, mk, r)
	if kindOf(want.err) != kindOf(got.err) {
		t.Fatalf("input %q: encoding/json says %s (%v), Decode says %s (%v)", input, kindOf(want.err), want.err, kindOf(got.err), got.err)
	}
	if !got.trailing && !reflect.DeepEqual(want.v, got.v) {
		t.Fatalf("input %q:\nencoding/json: %#v\nDecode:        %#v", input, want.v, got.v)
	}
}

func plain(r io.Reader) io.Reader { return r }

var readers = map[string]func(io.Reader) io.Reader{
	"whole":    plain,
	"one byte": iotest.OneByteReader,
	"halves":   iotest.HalfReader,
	"data+EOF": iotest.DataErrReader,
}

var types = map[string]func() any{
	"struct": func() any { return new(target) },
	"prefilled struct": func() any {
		return &target{ID: "pre", List: []string{"x", "y"}, M: map[string]upper{"old": "V"}, In: inner{A: "a"}, Count: 7}
	},
	"pointer":         func() any { return new(*target) },
	"embedded":        func() any { return new(withEmbedded) },
	"recursive":       func() any { return new(recursive) },
	"map":             func() any { return new(map[string]any) },
	"slice of struct": func() any { return new([]inner) },
	"any":             func() any { return new(any) },
}

// differentialCases are inputs on which Decode must agree with
// encoding/json, for every type and reader.
var differentialCases = []string{
	`{}`,
	`null`,
	` { "id" : "1i5" , "Name":"web-1", "count": 3, "f": 1.5e3 } `,
	`{"id":"a","ID":"b","Id":"c"}`, // duplicates: the last one wins
	`{"ID":"upper case key"}`,
	`{"NAME":"case-insensitive Go name"}`,
	`{"links":{"self":"http://x/1i5","deep":[1,[2,[3,{"a":null}]]]},"actions":{},"id":"1i5"}`,
	`{"count":1.5}`,          // a type error; the rest still decodes
	`{"count":"3","id":"x"}`, // a string where a number goes
	`{"list":["a","b"],"list":["c"]}`,
	`{"m":{"k":"v","n":1,"t":true},"m":{"k2":"v2"}}`,
	`{"in":{"a":"x","n":2,"zz":[1,2]},"in":{"n":3}}`,
	`{"in":null,"p":{"a":"y"}}`,
	`{"in":"not an object"}`,
	`{"p":null}`,
	`{"any":{"x":[1,"2",null,{"y":false}]}}`,
	`{"-":"dash key","Skip":"not decoded"}`,
	`{"raw":{"kept":"whole", "n":[1, 2]}}`,
	`{"bad name!":"invalid tag name","Bad":"go name"}`,
	`{"Opt":"x","opt":"y"}`,
	`{"u":"abc","u":{"obj":1}}`,
	`{"labels":{"io.rancher.stack.name":"web","io.rancher.other":"x"}}`,
	`{"labels":{"io.rancher.stack.name":5}}`,
	`{"hidden":"unexported"}`,
	`{"id":null,"Name":null,"count":null,"f":null,"list":null,"m":null,"in":null,"p":null,"any":null,"raw":null,"u":null,"s":null,"b":null,"small":null,"labels":null}`,
	`{"b":true,"small":127,"count":-0}`,
	`{"b":"true"}`,
	`{"b":1}`,
	`{"small":128}`,
	`{"small":-129,"id":"still decoded"}`,
	`{"count":1e3}`,
	`{"list":[]}`,
	`{"list":[ "a" , "b\n" ]}`,
	`{"list":["a",1]}`,
	`{"list":"a"}`,
	`{"list":[null]}`,
	"{\"id\":\"\xff\", \"list\":[\"\xfe\"]}",
	`{"s":"ok","id":"x"}`,
	`{"s":"fail","id":"not decoded after"}`,
	`{"s":"fail","id":"x",}`,
	`{"count":"x","s":"fail"}`,
	`{"s":"fail","count":"x"}`,
	`{"in":{"a":"x","n":"bad"},"id":"after"}`,
	`{"labels":{"io.rancher.stack.name":"fail"}}`,
	`{"next":{"name":"b","next":{"name":"c","extra":1}},"name":"a"}`,
	`{"x":1,"a":"embedded","n":4}`,
	`{"\u0069d":"escaped key"}`,
	`{"i\u0064":"escaped key", "na\u006de":"x"}`,
	`{"\u00c9t\u00e9":"non-ASCII key", "ſtate":"long s"}`,
	`{"K":"kelvin sign"}`,
	`{"id":"\ud83d\ude00 surrogates \u00e9 \n\t\"\\\/"}`,
	"{\"id\":\"invalid UTF-8 \xff\xfe\"}",
	`{"id":"bad escape \x"}`,
	`{"id":"\u12G4"}`,
	"{\"id\":\"control \x01 char\"}",
	`{"skipped":"bad escape \q","id":"x"}`,
	"{\"skipped\":\"control \x1f\",\"id\":\"x\"}",
	`{"skipped":01}`,
	`{"skipped":-}`,
	`{"skipped":1.}`,
	`{"skipped":1e}`,
	`{"skipped":1e+}`,
	`{"skipped":-0.0e-0, "s2": 123456789012345678901234567890}`,
	`{"skipped":.5}`,
	`{"skipped":+1}`,
	`{"skipped":tru}`,
	`{"skipped":nul, "id":"x"}`,
	`{"skipped":[1,2,]}`,
	`{"skipped":[,]}`,
	`{"skipped":{"a":1,}}`,
	`{"skipped":{"a" 1}}`,
	`{"skipped":{1:2}}`,
	`{"skipped":[1 2]}`,
	`{"skipped":{"a":1]}`,
	`{"skipped":[1}`,
	`{"id":"x",}`,
	`{"id":"x" "n":1}`,
	`{"id":"x"`,
	`{"id":`,
	`{"id"`,
	`{`,
	``,
	`   `,
	`{"id":"x"} {}`,
	`{"id":"x"} x`,
	`{"id":"x"}]`,
	"\ufeff{}",
	`[]`,
	`[{"a":"x","zz":1},{"n":2},null]`,
	`"just a string"`,
	`12`,
	`true`,
	`{"f":1e999}`,
	`{"count":9223372036854775808}`,
	`{"skipped":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
}

func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	for tname, mk := range types {
		for rname, r := range readers {
			t.Run(tname+"/"+rname, func(t *testing.T) {
				for _, in := range differentialCases {
					checkSame(t, []byte(in), mk, r)
				}
			})
		}
	}
}

// TestDecodeAgreesOnCattlePayloads decodes the real Cattle payloads of
// pkg/rancherapi's corpus both ways, whole and a byte at a time.
func TestDecodeAgreesOnCattlePayloads(t *testing.T) {
	paths, err := filepath.Glob("../../pkg/rancherapi/testdata/cattle/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("corpus: %v (%d files)", err, len(paths))
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []func(io.Reader) io.Reader{plain, iotest.OneByteReader} {
			checkSame(t, raw, func() any { return new(target) }, r)
			checkSame(t, raw, func() any { return new(map[string]any) }, r)
		}
	}
}

func TestDecodeRejectsDeepNestingAsEncodingJSONDoes(t *testing.T) {
	for _, n := range []int{MaxDepth - 1, MaxDepth, MaxDepth + 1} {
		in := []byte(`{"skipped":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`)
		checkSame(t, in, func() any { return new(target) }, plain)
		in = []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		checkSame(t, in, func() any { return new(any) }, plain)
	}
}

func TestSkipAcceptsExactlyValidJSON(t *testing.T) {
	for _, in := range differentialCases {
		for rname, r := range readers {
			d := NewDecoder(r(strings.NewReader(in)), int64(len(in)))
			err := d.Skip()
			if err == nil {
				err = d.End()
			}
			if valid := json.Valid([]byte(in)); valid != (err == nil) {
				t.Errorf("%s: input %q: json.Valid %v, Skip: %v", rname, in, valid, err)
			}
		}
	}
}

func TestDecoderRefusesADocumentOverItsLimit(t *testing.T) {
	in := `{"id":"x","pad":"` + strings.Repeat("p", 1000) + `"}`
	d := NewDecoder(strings.NewReader(in), 500)
	var v target
	err := d.Decode(&v)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != 500 {
		t.Fatalf("Decode of %d bytes with a limit of 500: %v, want a LimitError", len(in), err)
	}
	d = NewDecoder(strings.NewReader(in), int64(len(in)))
	if err := d.Decode(&v); err != nil || v.ID != "x" {
		t.Fatalf("Decode at exactly the limit: %v, %+v", err, v)
	}
}

func TestDecoderReportsReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(`{"data":[{"id":"a"},`), iotest.ErrReader(boom))
	d := NewDecoder(r, 1<<20)
	err := d.Object(Field{Name: "data", Value: func() error {
		return d.Array(func() error { var v target; return d.Decode(&v) })
	}})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reader's error", err)
	}
}

func TestDecoderStopsOnAReaderThatMakesNoProgress(t *testing.T) {
	d := NewDecoder(zeroReader{}, 1<<20)
	if err := d.Skip(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("got %v, want io.ErrNoProgress", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// TestDecoderHoldsOneValueAtATime streams a large array of small
// elements through a decoder and checks its buffer stayed small.
func TestDecoderHoldsOneValueAtATime(t *testing.T) {
	const n = 20000
	elem := `{"id":"1i1","links":{"self":"` + strings.Repeat("x", 400) + `"}}`
	r := io.MultiReader(strings.NewReader(`{"data":[`+elem), &repeatReader{s: "," + elem, n: n - 1}, strings.NewReader(`]}`))
	d := NewDecoder(r, 1<<30)
	count := 0
	err := d.Object(Field{Name: "data", Value: func() error {
		return d.Array(func() error {
			var v target
			count++
			return d.Decode(&v)
		})
	}})
	if err == nil {
		err = d.End()
	}
	if err != nil || count != n {
		t.Fatalf("decoded %d elements: %v", count, err)
	}
	if len(d.buf) > initialBuffer {
		t.Errorf("buffer grew to %d bytes for elements of %d", len(d.buf), len(elem))
	}
}

type repeatReader struct {
	s    string
	n    int
	left string
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == "" {
		if r.n == 0 {
			return 0, io.EOF
		}
		r.n--
		r.left = r.s
	}
	k := copy(p, r.left)
	r.left = r.left[k:]
	return k, nil
}

func TestDecoderGrowsForALargeValue(t *testing.T) {
	big := strings.Repeat("b", 3*initialBuffer)
	in := `{"id":"` + big + `"}`
	d := NewDecoder(iotest.HalfReader(strings.NewReader(in)), int64(len(in)))
	var v target
	if err := d.Decode(&v); err != nil || v.ID != big {
		t.Fatalf("Decode of a %d-byte value: %v", len(in), err)
	}
}

func TestObjectMatchesFieldsExactlyFirstThenCaseInsensitively(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"exact", `{"data":1,"Data":2}`, []string{"data=1", "Data=2"}},
		{"folded", `{"DATA":1}`, []string{"data=1"}},
		{"escaped key", `{"d\u0061ta":1}`, []string{"data=1"}},
		{"unknown keys are skipped", `{"x":{"y":[1]},"data":3}`, []string{"data=3"}},
		{"empty", `{}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			d := NewDecoder(strings.NewReader(tt.in), 1<<10)
			field := func(name string) Field {
				return Field{Name: name, Value: func() error {
					var n int
					err := d.Decode(&n)
					got = append(got, name+"="+string(rune('0'+n)))
					return err
				}}
			}
			if err := d.Object(field("data"), field("Data")); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestObjectRefusesAHandlerThatConsumesNoValue(t *testing.T) {
	d := NewDecoder(strings.NewReader(`{"data":1}`), 1<<10)
	err := d.Object(Field{Name: "data", Value: func() error { return nil }})
	if err == nil || !strings.Contains(err.Error(), "consumed 0 values") {
		t.Fatalf("got %v", err)
	}
}

func TestObjectAndArrayRefuseOtherValues(t *testing.T) {
	for _, in := range []string{`[]`, `null`, `"x"`, `1`} {
		d := NewDecoder(strings.NewReader(in), 1<<10)
		if err := d.Object(); err == nil {
			t.Errorf("Object of %s: no error", in)
		}
	}
	for _, in := range []string{`{}`, `null`, `"x"`} {
		d := NewDecoder(strings.NewReader(in), 1<<10)
		if err := d.Array(func() error { return d.Skip() }); err == nil {
			t.Errorf("Array of %s: no error", in)
		}
	}
}

func TestSyntaxErrorsGiveTheDocumentOffset(t *testing.T) {
	in := `{"data":[` + strings.Repeat(`{"id":"a"},`, 10000) + `{"id":"a" x}]}`
	d := NewDecoder(iotest.HalfReader(strings.NewReader(in)), 1<<30)
	err := d.Object(Field{Name: "data", Value: func() error {
		return d.Array(func() error { var v target; return d.Decode(&v) })
	}})
	var syn *SyntaxError
	if !errors.As(err, &syn) || syn.Offset != int64(strings.LastIndex(in, "x")) {
		t.Fatalf("got %v, want a syntax error at byte %d", err, strings.LastIndex(in, "x"))
	}
}

func FuzzDecodeAgreesWithEncodingJSON(f *testing.F) {
	for _, in := range differentialCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, mk := range []func() any{
			func() any { return new(target) },
			func() any { return new(withEmbedded) },
			func() any { return new(any) },
		} {
			checkSame(t, in, mk, plain)
			checkSame(t, in, mk, iotest.HalfReader)
		}
	})
}
