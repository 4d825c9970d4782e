package simruntime

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeagent"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// Defaults.
const (
	// DefaultPort is the agent's admin port, as in the config's default.
	DefaultPort = mesh.DefaultAdminPort
	// DefaultNodeName is the node-name template, as in the config's default.
	DefaultNodeName = "{{service}}@{{primaryIP}}"
)

// ErrCrashed is what exited receives when a test crashes a container.
var ErrCrashed = errors.New("container crashed")

// Container is what the runtime needs of a simulated container.
type Container struct {
	ID, Name, IP, Stack, Service string
}

// Options configures a Runtime.
type Options struct {
	// Token is every agent's admin token. Required.
	Token string
	// Port is the agent's port on the container IP. Default DefaultPort.
	Port int
	// NodeName is the node-name template ({{service}}, {{stack}},
	// {{primaryIP}}, {{name}}). Default DefaultNodeName.
	NodeName string
	// Mesh is shared by all agents. Default: a new, strict mesh (connecting
	// to a node that is not running fails).
	Mesh *nodeagent.MemoryMesh
	// AnnounceURL is the controller's node-facing base URL; "" disables
	// announcements. AnnounceToken authenticates them.
	AnnounceURL   string
	AnnounceToken string
	// ConnectTimeout is each agent's connect timeout. Default
	// nodeagent.DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Flags are reported in every agent's status.
	Flags nodeapi.Flags
	// TLS, when CertFile is set, makes every agent serve HTTPS with this
	// certificate (one for all, as one service certificate with a DNS
	// name serves every container), and require client certificates when
	// ClientCAFile is set. URL then returns https:// URLs.
	TLS nodeapi.TLSFiles
	// AnnounceTLS verifies an https:// AnnounceURL (nil: the system pool).
	AnnounceTLS *tls.Config
	// Limits are every agent's connection limits; zero fields take the
	// protocol's defaults.
	Limits nodeapi.Limits
	// Logger receives container lifecycle logs. Default: discard.
	Logger logr.Logger
}

// Runtime runs one Go agent per started container. Safe for concurrent use.
type Runtime struct {
	opts     Options
	tls      *tls.Config // nil: plain HTTP
	mesh     *nodeagent.MemoryMesh
	announce *nodeapi.Announcer
	log      logr.Logger

	mu    sync.Mutex
	nodes map[string]*node // by container id
	bg    sync.WaitGroup   // announcements and servers in flight
}

// New checks opts, applies defaults and returns a Runtime.
func New(opts Options) (*Runtime, error) {
	if opts.Token == "" {
		return nil, errors.New("simruntime token is required")
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if opts.NodeName == "" {
		opts.NodeName = DefaultNodeName
	}
	if opts.Mesh == nil {
		opts.Mesh = nodeagent.NewMemoryMesh(nodeagent.MemoryMeshOptions{})
	}
	var tlsConfig *tls.Config
	if !opts.TLS.IsZero() {
		c, err := nodeapi.ServerTLSConfig(opts.TLS)
		if err != nil {
			return nil, fmt.Errorf("simruntime TLS: %w", err)
		}
		tlsConfig = c
	}
	return &Runtime{
		opts:     opts,
		tls:      tlsConfig,
		mesh:     opts.Mesh,
		announce: nodeapi.NewTLSAnnouncer(opts.AnnounceURL, opts.AnnounceToken, opts.AnnounceTLS, opts.Logger),
		log:      opts.Logger,
		nodes:    map[string]*node{},
	}, nil
}

// Mesh returns the mesh all agents share.
func (r *Runtime) Mesh() *nodeagent.MemoryMesh { return r.mesh }

// NodeName returns the node name the template gives c.
func (r *Runtime) NodeName(c Container) string {
	return config.RenderNodeName(r.opts.NodeName, config.NodeVars{
		Service: c.Service, Stack: c.Stack, PrimaryIP: c.IP, Name: c.Name,
	})
}

// Node returns the node name of a running container.
func (r *Runtime) Node(id string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.nodes[id]
	if !ok {
		return "", false
	}
	return n.name, true
}

// URL returns the agent base URL of a container, e.g.
// "http://127.42.0.7:4001" ("https://..." with TLS).
func (r *Runtime) URL(ip string) string {
	scheme := "http"
	if r.tls != nil {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(ip, strconv.Itoa(r.opts.Port))
}

// StartContainer starts c's agent and returns once it listens. exited is
// called once if the container dies by itself (its server fails, or Crash).
func (r *Runtime) StartContainer(ctx context.Context, c Container, exited func(error)) error {
	name := r.NodeName(c)
	if err := mesh.CheckNodeName(name); err != nil {
		return fmt.Errorf("container %s: %w", c.ID, err)
	}
	r.mu.Lock()
	_, running := r.nodes[c.ID]
	r.mu.Unlock()
	if running {
		return fmt.Errorf("container %s is already running", c.ID)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(c.IP, strconv.Itoa(r.opts.Port)))
	if err != nil {
		return fmt.Errorf("container %s: listening: %w", c.ID, err)
	}
	n, err := r.newNode(c, name, exited)
	if err != nil {
		_ = ln.Close()
		return err
	}
	r.mu.Lock()
	r.nodes[c.ID] = n
	r.mu.Unlock()
	r.bg.Add(1)
	go r.serve(n, ln)
	r.log.V(1).Info("container started", "container", c.ID, "node", name, "ip", c.IP)
	r.goAnnounce(nodeapi.EventUp, n)
	return nil
}

// goAnnounce announces in the background: a container never waits for the
// controller to come up.
func (r *Runtime) goAnnounce(event string, n *node) {
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		r.sendAnnounce(context.Background(), event, n)
	}()
}

func (r *Runtime) sendAnnounce(ctx context.Context, event string, n *node) {
	if err := r.announce.Announce(ctx, event, n.name, n.ip); err != nil {
		r.log.V(1).Info("announcement failed", "container", n.id, "event", event, "error", err.Error())
	}
}
