// Package jsonskim reads a large JSON document from a stream, member by
// member and element by element, and decodes each value into a Go type as
// encoding/json would, while skipping the members that type cannot take
// without decoding them.
//
// It exists for Rancher's list pages: a page of a thousand Cattle
// containers is several megabytes, of which drover keeps a dozen fields
// per container. encoding/json reads such a document whole and scans
// every byte twice through its state machine; Decoder holds only the
// value being read, validates what it skips with a fast scanner, and
// hands encoding/json only the members the target type names.
//
// # Semantics
//
// Decode(v) gives the same result and the same kind of error as
// json.Unmarshal of the whole value into v: a member is dropped before
// decoding only when no field of v's type could take it (its key matches
// no field name, even case-insensitively), and only after it was checked
// to be valid JSON. Whenever that cannot be decided cheaply (a key with
// escapes or non-ASCII bytes, a type with embedded fields or its own
// UnmarshalJSON), the member or the value is kept whole, which is always
// correct.
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
