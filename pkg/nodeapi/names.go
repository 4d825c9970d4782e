package nodeapi

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error messages quote the name with quote: at most MaxQuoteBytes of it.

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
		return fmt.Errorf("node name %s must contain exactly one '@', as in \"hello@10.42.3.7\"", quote(s))
	}
	if name == "" || host == "" {
		return fmt.Errorf("node name %s needs a non-empty name and host around '@'", quote(s))
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !isNameRune(r) }); i >= 0 {
		return fmt.Errorf("node name %s: character %q not allowed before '@'", quote(s), firstRune(name[i:]))
	}
	if i := strings.IndexFunc(host, func(r rune) bool { return !isNameRune(r) && r != '.' }); i >= 0 {
		return fmt.Errorf("node name %s: character %q not allowed after '@'", quote(s), firstRune(host[i:]))
	}
	return nil
}

func isNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}
