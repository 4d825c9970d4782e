// Package ranchertest is a Rancher 1.6 (Cattle, API v2-beta) simulator, in
// process for tests and behind cmd/ranchersim for end-to-end runs: the API
// with schemas, filters, paging and actions, the websocket event stream
// (exact and Cattle-like modes), the container lifecycle with real health
// checks, rancher-metadata, Rancher DNS, a pluggable runtime and fault
// injection. ../shared/rancher-api.md is its specification.
//
// It must not import drover's controller packages: it stands for Rancher,
// and real Rancher clients must not be able to tell it apart.
package ranchertest
