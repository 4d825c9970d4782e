package nodeapi

import (
	"fmt"
	"strings"
)

// MaxNodeNameBytes is the longest node name accepted: an Erlang atom holds
// at most 255 characters.
const MaxNodeNameBytes = 255

// CheckNodeName reports whether s is a node name the protocol accepts:
// "name@host" with exactly one '@', a name part of letters, digits, '_' and
// '-', a host part of letters, digits, '.', '-' and '_', at most
// MaxNodeNameBytes in all. The error says what is wrong.
func CheckNodeName(s string) error {
	if s == "" {
		return fmt.Errorf("empty node name")
	}
	if len(s) > MaxNodeNameBytes {
		return fmt.Errorf("node name longer than %d bytes", MaxNodeNameBytes)
	}
	name, host, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(host, "@") {
		return fmt.Errorf("node name %q must contain exactly one '@', as in \"hello@10.42.3.7\"", s)
	}
	if name == "" || host == "" {
		return fmt.Errorf("node name %q needs a non-empty name and host around '@'", s)
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !isNameRune(r) }); i >= 0 {
		return fmt.Errorf("node name %q: character %q not allowed before '@'", s, name[i])
	}
	if i := strings.IndexFunc(host, func(r rune) bool { return !isNameRune(r) && r != '.' }); i >= 0 {
		return fmt.Errorf("node name %q: character %q not allowed after '@'", s, host[i])
	}
	return nil
}

func isNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}
