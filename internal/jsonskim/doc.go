// Package jsonskim reads a large JSON document from a stream, member by
// member and element by element, and decodes each value into a Go type as
// encoding/json would, while skipping the members that type cannot take
// without decoding them.
//
// It exists for Rancher's list pages: a page of a thousand Cattle
// containers is several megabytes, of which drover keeps a dozen fields
// per container. encoding/json reads such a document whole and scans
// every byte twice through its state machine; Decoder holds only the
// value being read and checks what it skips with a fast scanner (the
// closing quote of a string found with bytes.IndexByte, the bytes before
// it checked a word at a time).
//
// # Semantics
//
// Decode(v) gives the same result and the same kind of error as
// json.Unmarshal of the whole value into v. An object decoded into a zero
// struct goes straight into its fields (direct.go): a member whose key
// names a field (exactly, else case-insensitively, as encoding/json
// matches) is stored by a fast path when it is a plain string, integer,
// bool or list of strings, and through json.Unmarshal of the member's
// value into the field otherwise; the other members are checked and
// skipped. Into any other value, the object reaches json.Unmarshal with
// only the members a field could take. Whenever that cannot be decided
// cheaply (a type with embedded fields, ambiguous names or ",string"
// fields, a key with escapes), the slower way or the whole value is
// taken, which is always correct. The tests hold Decode to
// encoding/json's results on hand-picked, real Cattle and fuzzed input.
//
// # Bounds
//
// A Decoder reads at most the limit it was given from its reader (a
// longer document is an error, not a truncated answer), nests at most
// MaxDepth levels, and buffers at most one value at a time (plus what it
// read ahead), so memory grows with the largest value, not the document.
//
// It does not write JSON, does not decode into interfaces by itself
// (encoding/json does that for the members it keeps), and is not safe for
// concurrent use.
package jsonskim
