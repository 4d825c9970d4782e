package simruntime

import (
	"context"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// The simulator's runtime contract.
var (
	_ ranchersim.Runtime  = (*Runtime)(nil)
	_ ranchersim.Isolator = (*Runtime)(nil)
)

// Start implements ranchersim.Runtime: it starts the container's agent.
func (r *Runtime) Start(ctx context.Context, c ranchersim.ContainerSpec, exited func(error)) error {
	return r.StartContainer(ctx, FromSpec(c), exited)
}

// FromSpec picks what the runtime needs from the simulator's container.
func FromSpec(c ranchersim.ContainerSpec) Container {
	return Container{ID: c.ID, Name: c.Name, IP: c.IP, Stack: c.Stack, Service: c.Service}
}
