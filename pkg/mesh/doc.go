// Package mesh is drover's domain model: what Rancher told us (Snapshot,
// Cluster, Member) and what a node is asked to hold (NodeName, PeerSet).
//
// It owns plain value types and small pure helpers on them. It must not
// import anything beyond the standard library, perform I/O, or know about
// Rancher's wire types or the node admin protocol: the adapters
// (pkg/rancherapi, pkg/nodeapi) translate into and out of these types, and
// pkg/reconcile computes on them.
//
// Values are never mutated once built: functions that derive new data
// return new values, so a snapshot can be shared by readers without locks.
package mesh
