package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// NodeVars are the values a node-name template can use.
type NodeVars struct {
	Service   string
	Stack     string
	PrimaryIP string
	Name      string
}

// sampleIP is the longest overlay address Rancher hands out (10.42.0.0/16):
// validation renders templates with it.
const sampleIP = "10.42.255.255"

// sampleContainerSuffix stands for the "-<index>" Rancher 1.6 appends to
// "<stack>-<service>" in a container's name; validation renders {{name}}
// with a three-digit index.
const sampleContainerSuffix = "-999"

// placeholder is one "{{ word }}" of a template: its byte range and word.
type placeholder struct {
	start, end int
	word       string
}

// nextPlaceholder finds the first "{{ word }}" (word: ASCII letters,
// optional blanks inside the braces) in s at or after from.
func nextPlaceholder(s string, from int) (placeholder, bool) {
	for i := from; i+1 < len(s); i++ {
		if s[i] != '{' || s[i+1] != '{' {
			continue
		}
		j := skipBlanks(s, i+2)
		k := j
		for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z') {
			k++
		}
		end := skipBlanks(s, k)
		if k > j && strings.HasPrefix(s[end:], "}}") {
			return placeholder{start: i, end: end + 2, word: s[j:k]}, true
		}
	}
	return placeholder{}, false
}

func skipBlanks(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\n\r\f\v", s[i]) >= 0 {
		i++
	}
	return i
}

// value returns the variable a placeholder word names.
func (v NodeVars) value(word string) (string, bool) {
	switch word {
	case "service":
		return v.Service, true
	case "stack":
		return v.Stack, true
	case "primaryIP":
		return v.PrimaryIP, true
	case "name":
		return v.Name, true
	}
	return "", false
}

// RenderNodeName fills the placeholders of a node-name template that
// passed validation, e.g. "{{service}}@{{primaryIP}}" -> "hello@10.42.3.7".
// An unknown placeholder stays as it is. It runs once per container and
// pass, so it scans the template by hand.
func RenderNodeName(tmpl string, v NodeVars) string {
	var b strings.Builder
	b.Grow(len(tmpl) + len(v.PrimaryIP) + len(v.Service))
	last := 0
	for {
		p, ok := nextPlaceholder(tmpl, last)
		if !ok {
			break
		}
		val, known := v.value(p.word)
		if !known {
			val = tmpl[p.start:p.end]
		}
		b.WriteString(tmpl[last:p.start])
		b.WriteString(val)
		last = p.end
	}
	b.WriteString(tmpl[last:])
	return b.String()
}

// checkNodeName validates a node-name template: one '@', a non-empty name
// part, a host part that holds {{primaryIP}} (nodes are reached and named
// by their overlay IP), only known placeholders, and a sample rendering
// that passes the protocol's name rule (checkRenderedNodeName).
func checkNodeName(tmpl string) error {
	for p, ok := nextPlaceholder(tmpl, 0); ok; p, ok = nextPlaceholder(tmpl, p.end) {
		if _, known := (NodeVars{}).value(p.word); !known {
			return fmt.Errorf("unknown placeholder %s: use {{service}}, {{stack}}, {{primaryIP}} or {{name}}", tmpl[p.start:p.end])
		}
	}
	name, host, ok := strings.Cut(tmpl, "@")
	if !ok || strings.Contains(host, "@") {
		return fmt.Errorf("%q must contain exactly one '@', as in \"hello@{{primaryIP}}\"", tmpl)
	}
	if name == "" {
		return errors.New("the part before '@' must not be empty")
	}
	if !strings.Contains(RenderNodeName(host, NodeVars{PrimaryIP: "\x00"}), "\x00") {
		return fmt.Errorf("%q: the host part must be {{primaryIP}}: nodes are named by their overlay IP", tmpl)
	}
	return checkRenderedNodeName(tmpl, "stack", "service")
}

// checkRenderedNodeName renders tmpl for a container of service in stack
// with the longest overlay IP and a container name as Rancher 1.6 gives
// it, and runs the protocol's node name rule (mesh.CheckNodeName) on the
// result: a template that passes yields names every agent accepts.
func checkRenderedNodeName(tmpl, stack, service string) error {
	sample := RenderNodeName(tmpl, NodeVars{
		Service: service, Stack: stack, PrimaryIP: sampleIP, Name: stack + "-" + service + sampleContainerSuffix,
	})
	if err := mesh.CheckNodeName(sample); err != nil {
		return fmt.Errorf("%q renders %s for a container of service %s in stack %s, which agents refuse: %w",
			tmpl, mesh.Quote(sample), service, stack, err)
	}
	return nil
}
