package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// NodeVars are the values a node-name template can use.
type NodeVars struct {
	Service   string
	Stack     string
	PrimaryIP string
	Name      string
}

var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z]+)\s*\}\}`)

// RenderNodeName fills the placeholders of a node-name template that
// passed validation, e.g. "{{service}}@{{primaryIP}}" -> "hello@10.42.3.7".
func RenderNodeName(tmpl string, v NodeVars) string {
	return placeholderRE.ReplaceAllStringFunc(tmpl, func(m string) string {
		switch placeholderRE.FindStringSubmatch(m)[1] {
		case "service":
			return v.Service
		case "stack":
			return v.Stack
		case "primaryIP":
			return v.PrimaryIP
		case "name":
			return v.Name
		}
		return m
	})
}

// checkNodeName validates a node-name template: one '@', a non-empty name
// part, a host part that holds {{primaryIP}} (nodes are reached and named
// by their overlay IP), and only known placeholders.
func checkNodeName(tmpl string) error {
	for _, m := range placeholderRE.FindAllStringSubmatch(tmpl, -1) {
		switch m[1] {
		case "service", "stack", "primaryIP", "name":
		default:
			return fmt.Errorf("unknown placeholder %s: use {{service}}, {{stack}}, {{primaryIP}} or {{name}}", m[0])
		}
	}
	name, host, ok := strings.Cut(tmpl, "@")
	if !ok || strings.Contains(host, "@") {
		return fmt.Errorf("%q must contain exactly one '@', as in \"hello@{{primaryIP}}\"", tmpl)
	}
	if name == "" {
		return errors.New("the part before '@' must not be empty")
	}
	if !strings.Contains(host, "{{primaryIP}}") {
		return fmt.Errorf("%q: the host part must be {{primaryIP}}: nodes are named by their overlay IP", tmpl)
	}
	return nil
}
