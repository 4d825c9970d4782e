// Package config owns the clustered-services file: the YAML that tells
// drover which Rancher services form which BEAM meshes, how nodes are named
// and reached, who counts as a member, and how cautious the controller is.
//
// The file is Kubernetes-style (apiVersion, kind, metadata, spec). Parsing
// is strict: unknown fields are rejected with their path. Defaults live in
// one place (Default) and validation (Validate) reports every problem at
// once, each with its path, e.g.
//
//	spec.clusters[1].admin.port: must be between 1 and 65535
//
// spec.defaults holds what every cluster inherits where it sets nothing
// (inherit.go). Clusters can also come from Rancher itself: a service
// whose launch config carries io.drover.cluster=NAME joins cluster NAME of
// its stack (labels.go: the labels and their parser; resolve.go: Resolve
// joins the file's clusters with those the labels define, pure, with the
// previous resolution as input). Labels are checked as strictly as the
// file, each error naming the service and the label; they never carry a
// secret.
//
// The package must not read environment variables or files on its own
// behalf beyond the config file it is asked to load: secrets referenced by
// the config are resolved by the caller through ResolveSecret with the
// lookups it passes in. Secret values never appear in String, errors or
// JSON output.
package config
