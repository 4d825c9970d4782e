package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// LoadFile reads, parses, defaults and validates the file at path.
func LoadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	f, err := Load(b)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return f, nil
}

// Load parses data strictly, applies defaults and validates the result. The
// error lists every problem found, one per line, each with its field path.
func Load(data []byte) (*File, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	var generic any
	if err := json.Unmarshal(j, &generic); err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	if generic == nil {
		return nil, errors.New("the file is empty: see config/example.yaml for a complete example")
	}
	var errs []error
	for _, p := range unknownFields(generic, reflect.TypeFor[File](), "") {
		errs = append(errs, &FieldError{Path: p, Msg: "unknown field"})
	}
	var f File
	if err := json.Unmarshal(j, &f); err != nil {
		errs = append(errs, typeError(err))
		return nil, errors.Join(errs...)
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
func unknownFields(v any, t reflect.Type, path string) []string {
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
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for k, val := range obj {
			ft, ok := fields[k]
			if !ok {
				out = append(out, join(path, k))
				continue
			}
			out = append(out, unknownFields(val, ft, join(path, k))...)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range arr {
			out = append(out, unknownFields(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	sort.Strings(out)
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
