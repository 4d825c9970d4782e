package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"github.com/drover-mesh/drover/internal/boundedread"
)

// MaxFileBytes caps the config file. A file of a thousand clusters is
// about 100 KiB; checking one at the cap takes under a second and about
// 130 MiB (at 8 MiB it would be 3 s and 500 MiB).
const MaxFileBytes = 2 << 20

// ctxCheckEvery is how many YAML nodes or list items are walked between
// two looks at the context.
const ctxCheckEvery = 4096

// LoadFile reads, parses, defaults and validates the file at path.
func LoadFile(path string) (*File, error) {
	return LoadFileContext(context.Background(), path)
}

// LoadFileContext is LoadFile that gives up when ctx ends (a SIGTERM
// while a large file is being checked).
func LoadFileContext(ctx context.Context, path string) (*File, error) {
	b, err := boundedread.File(path, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	f, err := LoadContext(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return f, nil
}

// Load parses data strictly, applies defaults and validates the result. The
// error lists every problem found, one per line, each with its field path.
func Load(data []byte) (*File, error) {
	return LoadContext(context.Background(), data)
}

// LoadContext is Load that gives up when ctx ends, between its phases and
// every few thousand items within them.
func LoadContext(ctx context.Context, data []byte) (*File, error) {
	if err := interrupted(ctx); err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("the file is %d bytes, over the limit of %d: a clustered-services file is a few KiB", len(data), MaxFileBytes)
	}
	var errs []error
	dups, err := duplicateKeys(ctx, data)
	if err != nil {
		return nil, err
	}
	errs = append(errs, dups...)
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	if err := interrupted(ctx); err != nil {
		return nil, err
	}
	var generic any
	if err := json.Unmarshal(j, &generic); err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	if generic == nil {
		return nil, errors.New("the file is empty: see config/example.yaml for a complete example")
	}
	w := walker{ctx: ctx}
	for _, p := range w.unknownFields(generic, reflect.TypeFor[File](), "") {
		errs = append(errs, &FieldError{Path: p, Msg: "unknown field"})
	}
	if err := w.err(); err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(j, &f); err != nil {
		errs = append(errs, typeError(err))
		return nil, errors.Join(errs...)
	}
	if err := interrupted(ctx); err != nil {
		return nil, err
	}
	f.Default()
	if err := f.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &f, nil
}

func interrupted(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("loading interrupted: %w", err)
	}
	return nil
}

// duplicateKeys parses data into YAML nodes and returns a FieldError for
// every key that a mapping holds twice: the conversion to JSON would keep
// only the last one, silently (a second token source, say). A stream of
// more than one YAML document is refused too.
func duplicateKeys(ctx context.Context, data []byte) ([]error, error) {
	dec := yaml3.NewDecoder(bytes.NewReader(data))
	var root yaml3.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty: reported after the conversion
		}
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	var next yaml3.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, errors.New("parsing YAML: the file holds more than one YAML document (a second '---'): keep one")
	}
	w := walker{ctx: ctx}
	var out []error
	w.duplicates(&root, "", &out)
	return out, w.err()
}

// walker walks parsed trees and looks at its context now and then.
type walker struct {
	ctx    context.Context
	steps  int
	done   error
	fields map[reflect.Type]map[string]reflect.Type // jsonFields by struct type
}

// step counts one item and reports whether the walk must stop.
func (w *walker) step() bool {
	if w.done != nil {
		return true
	}
	if w.steps++; w.steps%ctxCheckEvery == 0 {
		w.done = interrupted(w.ctx)
	}
	return w.done != nil
}

func (w *walker) err() error { return w.done }

func (w *walker) duplicates(n *yaml3.Node, path string, out *[]error) {
	if w.step() {
		return
	}
	switch n.Kind {
	case yaml3.DocumentNode:
		for _, c := range n.Content {
			w.duplicates(c, path, out)
		}
	case yaml3.SequenceNode:
		for i, c := range n.Content {
			w.duplicates(c, fmt.Sprintf("%s[%d]", path, i), out)
		}
	case yaml3.MappingNode:
		first := map[string]*yaml3.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml3.ScalarNode && k.Tag != "!!merge" {
				if f, dup := first[k.Value]; dup {
					*out = append(*out, &FieldError{Path: join(path, k.Value),
						Msg: fmt.Sprintf("duplicate key: set %s and again %s; keep one", where(f, k), where(k, f))})
				} else {
					first[k.Value] = k
				}
			}
			w.duplicates(v, join(path, k.Value), out)
		}
	}
	// An alias repeats a node walked where its anchor is.
}

// where is "on line L" for n, with its column when other is on that line.
func where(n, other *yaml3.Node) string {
	if n.Line == other.Line {
		return fmt.Sprintf("on line %d column %d", n.Line, n.Column)
	}
	return fmt.Sprintf("on line %d", n.Line)
}

// typeError turns a JSON decoding error into a FieldError with the path of
// the offending field where the decoder knows it.
func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &FieldError{Path: te.Field, Msg: fmt.Sprintf("must be of type %s, not %s", te.Type, te.Value)}
	}
	return fmt.Errorf("decoding: %w", err)
}

// unknownFields walks a decoded JSON value next to the Go type it is meant
// for and returns the paths of keys that the type does not have, sorted.
func (w *walker) unknownFields(v any, t reflect.Type, path string) []string {
	if w.step() {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(reflect.TypeFor[json.Unmarshaler]()) || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return nil
	}
	var out []string
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := w.jsonFields(t)
		for k, val := range obj {
			ft, ok := fields[k]
			if !ok {
				out = append(out, join(path, k))
				continue
			}
			out = append(out, w.unknownFields(val, ft, join(path, k))...)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok || t.Elem().Kind() == reflect.String {
			return nil
		}
		for i, e := range arr {
			out = append(out, w.unknownFields(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	sort.Strings(out)
	return out
}

// jsonFields maps a struct's JSON names to their types.
func (w *walker) jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := w.fields[t]; ok {
		return f
	}
	if w.fields == nil {
		w.fields = map[reflect.Type]map[string]reflect.Type{}
	}
	fields := make(map[string]reflect.Type, t.NumField())
	w.fields[t] = fields
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	return fields
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
