// Package rancherapi is everything that speaks Rancher 1.6: the go-rancher
// v2 client built from the project's schemas URL, complete snapshots of the
// configured clusters (following pagination, checking every filter it
// relies on), the websocket event stream used as a trigger with ping
// deadlines and reconnect backoff, and pure functions that translate wire
// types into pkg/mesh values.
//
// go-rancher types never leave this package. It must not decide membership
// or talk to nodes, and it never returns a partial snapshot: any error or
// incomplete answer is an error, classified as transient or terminal.
package rancherapi
