package simruntime

import (
	"context"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
)

// The simulator's runtime contract.
var (
	_ ranchertest.Runtime  = (*Runtime)(nil)
	_ ranchertest.Isolator = (*Runtime)(nil)
)

// Start implements ranchertest.Runtime: it starts the container's agent.
func (r *Runtime) Start(ctx context.Context, c ranchertest.ContainerSpec, exited func(error)) error {
	return r.StartContainer(ctx, FromSpec(c), exited)
}

// FromSpec picks what the runtime needs from the simulator's container.
func FromSpec(c ranchertest.ContainerSpec) Container {
	return Container{ID: c.ID, Name: c.Name, IP: c.IP, Stack: c.Stack, Service: c.Service}
}
