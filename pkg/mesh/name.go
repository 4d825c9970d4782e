package mesh

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The node name rule of docs/nodeapi.md ("Node names"), defined once:
// nodeapi's decoders, the Go agent, config validation and the reconciler
// all call CheckNodeName.
const (
	// MaxNodeNameBytes is the longest node name accepted: an Erlang atom
	// holds at most 255 characters.
	MaxNodeNameBytes = 255
	// MaxQuoteBytes is the longest prefix of an input that an error
	// message quotes, so that no answer echoes a long input back (the
	// protocol's limit of the same name in pkg/nodeapi is this one).
	MaxQuoteBytes = 64
)

// CheckNodeName reports whether s is a node name the protocol accepts:
// "name@host" with exactly one '@', a name part of letters, digits, '_' and
// '-', a host part of letters, digits, '.', '-' and '_', at most
// MaxNodeNameBytes in all. The error says what is wrong, quoting at most
// MaxQuoteBytes of s.
func CheckNodeName(s string) error {
	if s == "" {
		return errors.New("empty node name")
	}
	if len(s) > MaxNodeNameBytes {
		return fmt.Errorf("node name %s is longer than %d bytes", Quote(s), MaxNodeNameBytes)
	}
	name, host, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(host, "@") {
		return fmt.Errorf("node name %s must contain exactly one '@', as in \"hello@10.42.3.7\"", Quote(s))
	}
	if name == "" || host == "" {
		return fmt.Errorf("node name %s needs a non-empty name and host around '@'", Quote(s))
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !isNameRune(r) }); i >= 0 {
		return fmt.Errorf("node name %s: character %q not allowed before '@' (letters, digits, '_' and '-' are)",
			Quote(s), firstRune(name[i:]))
	}
	if i := strings.IndexFunc(host, func(r rune) bool { return !isNameRune(r) && r != '.' }); i >= 0 {
		return fmt.Errorf("node name %s: character %q not allowed after '@' (letters, digits, '.', '_' and '-' are)",
			Quote(s), firstRune(host[i:]))
	}
	return nil
}

// Quote returns s quoted for an error message, cut to its first
// MaxQuoteBytes bytes ("..." marks the cut).
func Quote(s string) string {
	if len(s) <= MaxQuoteBytes {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:MaxQuoteBytes]) + "..."
}

func isNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}
