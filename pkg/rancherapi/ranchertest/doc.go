// Package ranchertest starts the Rancher 1.6 simulator (pkg/ranchersim) in
// process for a Go test and stops it when the test ends:
//
//	sim := ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.42.0.0/16"})
//
// It is the only part of the simulator that imports testing; the simulator
// itself lives in pkg/ranchersim so that cmd/ranchersim does not link it.
package ranchertest
