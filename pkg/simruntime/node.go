package simruntime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/nodeagent"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// node is one running container.
type node struct {
	id, name, ip string
	agent        *nodeagent.Agent
	srv          *nodeapi.Server
	exited       func(error)
	served       chan struct{} // closed when Serve has returned and closed the listener

	mu       sync.Mutex
	isolated bool
	stopping bool // Stop or Crash began: the server's end is not a death
}

func (r *Runtime) newNode(c Container, name string, exited func(error)) (*node, error) {
	n := &node{id: c.ID, name: name, ip: c.IP, exited: exited, served: make(chan struct{})}
	agent, err := nodeagent.NewAgent(nodeagent.AgentOptions{
		Node: name, Token: r.opts.Token, Connector: r.mesh.Connector(name),
		ConnectTimeout: r.opts.ConnectTimeout, Flags: r.opts.Flags,
		Reannounce: func() { r.goAnnounce(nodeapi.EventUp, n) },
		Logger:     r.log.WithValues("container", c.ID),
	})
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", c.ID, err)
	}
	n.agent = agent
	n.srv, err = nodeapi.NewServer(nodeapi.ServerOptions{Handler: n.handler(), TLS: r.tls, Limits: r.opts.Limits,
		Logger: r.log.WithValues("container", c.ID)})
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", c.ID, err)
	}
	return n, nil
}

// handler serves the agent, or drops connections while isolated.
func (n *node) handler() http.Handler {
	h := n.agent.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n.mu.Lock()
		cut := n.isolated
		n.mu.Unlock()
		if cut {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		h.ServeHTTP(w, req)
	})
}

// serve runs the agent's server; an unexpected end is a container death.
func (r *Runtime) serve(n *node, ln net.Listener) {
	defer r.bg.Done()
	err := n.srv.Serve(ln)
	close(n.served)
	n.mu.Lock()
	expected := n.stopping
	n.stopping = true
	n.mu.Unlock()
	if expected || errors.Is(err, http.ErrServerClosed) {
		return
	}
	r.forget(n)
	if n.exited != nil {
		n.exited(err)
	}
}

// Stop stops a container: with timeout > 0 as on SIGTERM (announce
// "stopping", leave the mesh, finish requests within timeout), with 0 as on
// SIGKILL. Stopping an unknown id is not an error.
func (r *Runtime) Stop(ctx context.Context, id string, timeout time.Duration) error {
	n := r.take(id)
	if n == nil {
		return nil
	}
	defer func() { <-n.served }() // the port is free when Stop returns
	if timeout <= 0 {
		r.mesh.Remove(n.name)
		return n.srv.Close()
	}
	r.sendAnnounce(ctx, nodeapi.EventStopping, n)
	r.mesh.Remove(n.name) // leave: every link dropped at once
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := n.srv.Shutdown(sctx); err != nil {
		_ = n.srv.Close()
	}
	r.log.V(1).Info("container stopped", "container", id, "node", n.name)
	return nil
}

// Crash kills a container as if it died by itself: no announcement, no
// leave, and exited is called with ErrCrashed.
func (r *Runtime) Crash(id string) error {
	n := r.take(id)
	if n == nil {
		return fmt.Errorf("container %s is not running", id)
	}
	r.mesh.Remove(n.name)
	_ = n.srv.Close()
	<-n.served
	if n.exited != nil {
		n.exited(ErrCrashed)
	}
	return nil
}

// Isolate cuts a container off the network (cut=true: every link dropped,
// no connection either way, its admin endpoint drops connections) or heals
// it.
func (r *Runtime) Isolate(_ context.Context, id string, cut bool) error {
	r.mu.Lock()
	n := r.nodes[id]
	r.mu.Unlock()
	if n == nil {
		return fmt.Errorf("container %s is not running", id)
	}
	n.mu.Lock()
	n.isolated = cut
	n.mu.Unlock()
	r.mesh.Isolate(n.name, cut)
	return nil
}

// Close kills every container and waits for background work.
func (r *Runtime) Close() {
	r.mu.Lock()
	ids := make([]string, 0, len(r.nodes))
	for id := range r.nodes {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	for _, id := range ids {
		_ = r.Stop(context.Background(), id, 0)
	}
	r.bg.Wait()
}

// take removes a running container from the table and marks it stopping.
func (r *Runtime) take(id string) *node {
	r.mu.Lock()
	n := r.nodes[id]
	delete(r.nodes, id)
	r.mu.Unlock()
	if n != nil {
		n.mu.Lock()
		n.stopping = true
		n.mu.Unlock()
	}
	return n
}

// forget removes a dead container.
func (r *Runtime) forget(n *node) {
	r.mu.Lock()
	if r.nodes[n.id] == n {
		delete(r.nodes, n.id)
	}
	r.mu.Unlock()
	r.mesh.Remove(n.name)
}
