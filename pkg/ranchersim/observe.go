package ranchersim

import (
	"context"
	"net"
	"time"
)

// This file lets a benchmark observe the simulator precisely: the instant
// each container changes state or health state (the simulator's own clock,
// e.g. when a container becomes a member: running and healthy), and DNS
// served on sockets the caller owns (so that it can count queries).

// ContainerChange is one change of a container's state or health state, at
// the instant the simulator made it (to within a goroutine wake-up).
type ContainerChange struct {
	At        time.Time
	Stack     string
	Service   string
	Container ContainerView
}

// WatchContainers calls fn, from one goroutine, for every change of a
// container's state or health state until ctx is done; the first call
// reports every existing container. Changes that follow each other faster
// than the watcher wakes are merged into the latest (a benchmark reads
// membership, which each step settles for StepDelay at least). fn must
// not block for long.
func (s *Sim) WatchContainers(ctx context.Context, fn func(ContainerChange)) {
	prev := map[string]ContainerView{}
	for {
		s.mu.Lock()
		now := time.Now()
		ch := s.changed
		var out []ContainerChange
		for id, c := range s.containers {
			v := viewOf(c)
			if p, ok := prev[id]; ok && p.State == v.State && p.HealthState == v.HealthState {
				continue
			}
			prev[id] = v
			cc := ContainerChange{At: now, Container: v}
			if st := s.stacks[c.stackID]; st != nil {
				cc.Stack = st.name
			}
			if svc := s.services[c.serviceID]; svc != nil {
				cc.Service = svc.name
			}
			out = append(out, cc)
		}
		s.mu.Unlock()
		for _, cc := range out {
			fn(cc)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// ServeDNS answers DNS queries on sockets the caller opened (UDP and,
// when tcp is not nil, TCP) until they are closed, as Serve does on its
// own listener. The caller closes them.
func (s *Sim) ServeDNS(udp net.PacketConn, tcp net.Listener) {
	done := make(chan struct{})
	if tcp != nil {
		go func() {
			defer close(done)
			s.serveDNSStream(tcp)
		}()
	} else {
		close(done)
	}
	s.serveDNSPacket(udp)
	<-done
}
