// Package boundedread reads files whose size the caller bounds: the config
// file, token files and PEM files that an operator names. A path such as
// /dev/zero or a multi-gigabyte file must be refused with a clear error,
// not read into memory.
//
// It must not interpret what it reads.
package boundedread
