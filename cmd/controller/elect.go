package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// Leader election modes (--leader-election).
const (
	electionOff     = "off"
	electionRancher = "rancher"
)

// DefaultMetadataURL is rancher-metadata as a container sees it.
const DefaultMetadataURL = "http://rancher-metadata/latest"

// maxMetadataBytes bounds a self/container answer (a few KiB).
const maxMetadataBytes = 1 << 20

// selfID is this controller's container as Rancher names it.
type selfID struct {
	Stack, Service, Name, IP string
}

// ref is the ClusterRef of the controller's own service, observed with
// the clusters so that every snapshot holds its containers.
func (s selfID) ref() rancherapi.ClusterRef {
	return rancherapi.ClusterRef{Name: selfCluster, Stack: s.Stack, Services: []string{s.Service}}
}

// parseSelf reads --self-container: "stack/service/container".
func parseSelf(v string) (selfID, error) {
	parts := strings.Split(v, "/")
	if len(parts) != 3 || slices.Contains(parts, "") {
		return selfID{}, fmt.Errorf("--self-container %q must be STACK/SERVICE/CONTAINER, e.g. drover/drover/drover-drover-1", v)
	}
	return selfID{Stack: parts[0], Service: parts[1], Name: parts[2]}, nil
}

// metadataContainer is the part of rancher-metadata's self/container that
// names the caller's container.
type metadataContainer struct {
	Name        string `json:"name"`
	PrimaryIP   string `json:"primary_ip"`
	StackName   string `json:"stack_name"`
	ServiceName string `json:"service_name"`
}

// discoverSelf asks rancher-metadata which container the controller runs
// in: metadata answers self by the caller's IP.
func discoverSelf(ctx context.Context, hc *http.Client, base string) (selfID, error) {
	url := strings.TrimRight(base, "/") + "/self/container"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return selfID{}, fmt.Errorf("asking rancher-metadata which container this is: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return selfID{}, fmt.Errorf("asking rancher-metadata which container this is: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes))
	switch {
	case err != nil:
		return selfID{}, fmt.Errorf("reading %s: %w", url, err)
	case resp.StatusCode == http.StatusNotFound:
		return selfID{}, fmt.Errorf("%s answered 404: rancher-metadata does not know a container with this controller's IP; with --leader-election=rancher the controller must run as a container of a Rancher service (or set --self-container)", url)
	case resp.StatusCode != http.StatusOK:
		return selfID{}, fmt.Errorf("%s answered %d", url, resp.StatusCode)
	}
	var m metadataContainer
	if err := json.Unmarshal(body, &m); err != nil {
		return selfID{}, fmt.Errorf("decoding %s: %w", url, err)
	}
	if m.Name == "" || m.StackName == "" || m.ServiceName == "" {
		return selfID{}, fmt.Errorf("%s names no stack, service and container (a standalone container cannot be elected): %q/%q/%q", url, m.StackName, m.ServiceName, m.Name)
	}
	return selfID{Stack: m.StackName, Service: m.ServiceName, Name: m.Name, IP: m.PrimaryIP}, nil
}

// findSelf returns --self-container, or asks rancher-metadata, retrying
// while it cannot be reached until ctx ends.
func findSelf(ctx context.Context, o *options, log logr.Logger) (selfID, error) {
	if o.selfContainer != "" {
		return parseSelf(o.selfContainer)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	delay := connectRetryMin
	for {
		s, err := discoverSelf(ctx, hc, o.metadataURL)
		if err == nil {
			log.Info("this controller's container", "stack", s.Stack, "service", s.Service, "container", s.Name, "ip", s.IP)
			return s, nil
		}
		if o.once || ctx.Err() != nil {
			return selfID{}, err
		}
		log.Error(err, "finding this controller's container for the leader election; retrying", "in", delay)
		select {
		case <-ctx.Done():
			return selfID{}, err
		case <-time.After(delay):
		}
		delay = min(2*delay, connectRetryMax)
	}
}

// elector decides from each snapshot whether this controller leads: the
// leader is the running, healthy container of the controller's own
// service with the lowest createIndex (Rancher's own suggestion for
// electing a leader among a service's containers). It implements
// reconcile.Elector.
type elector struct {
	self selfID

	mu       sync.Mutex
	last     reconcile.Election
	leaderIP string          // the leader's container IP, when known
	ips      map[string]bool // the IPs of the service's containers
}

func newElector(self selfID) *elector {
	return &elector{self: self, last: reconcile.Election{Self: self.Name,
		Reason: "no snapshot of the controller's own service yet"}}
}

// Elect implements reconcile.Elector. A snapshot without the controller's
// own service keeps the last decision.
func (e *elector) Elect(snap mesh.Snapshot) reconcile.Election {
	e.mu.Lock()
	defer e.mu.Unlock()
	if own, ok := snap.Cluster(selfCluster); ok {
		e.last = elect(e.self, own)
		e.leaderIP, e.ips = "", map[string]bool{}
		for _, m := range own.Members() {
			if m.IP != "" {
				e.ips[m.IP] = true
			}
			if m.Name == e.last.Holder {
				e.leaderIP = m.IP
			}
		}
	}
	return e.last
}

// leader returns the leader's IP, and whether this controller leads.
func (e *elector) leader() (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leaderIP, e.last.Leader
}

// isController reports whether ip is a container of the controller's own
// service.
func (e *elector) isController(ip string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ips[ip]
}

// elect is the election over the containers of the controller's own
// service. It is pure.
func elect(self selfID, own mesh.Cluster) reconcile.Election {
	rule := config.Membership{States: config.DefaultStates(), HealthStates: config.DefaultHealthStates()}
	isSelf := func(m mesh.Member) bool {
		return (self.Name != "" && m.Name == self.Name) || (self.Name == "" && self.IP != "" && m.IP == self.IP)
	}
	var candidates []mesh.Member
	seen := false
	for _, m := range own.Members() {
		seen = seen || isSelf(m)
		if reconcile.IsMember(rule, m) {
			candidates = append(candidates, m)
		}
	}
	slices.SortFunc(candidates, func(a, b mesh.Member) int {
		return cmp.Or(cmp.Compare(a.CreateIndex, b.CreateIndex), cmp.Compare(a.ContainerID, b.ContainerID))
	})
	svc := self.Stack + "/" + self.Service
	e := reconcile.Election{Self: self.Name}
	switch {
	case len(candidates) == 0:
		e.Reason = fmt.Sprintf("no container of service %s is running and healthy: none leads", svc)
	case isSelf(candidates[0]):
		e.Leader, e.Holder = true, candidates[0].Name
		e.Reason = fmt.Sprintf("this container is the running, healthy container of %s with the lowest createIndex (%d)", svc, candidates[0].CreateIndex)
	default:
		e.Holder = candidates[0].Name
		e.Reason = fmt.Sprintf("%s is the running, healthy container of %s with the lowest createIndex (%d)", e.Holder, svc, candidates[0].CreateIndex)
	}
	if !seen {
		e.Reason += fmt.Sprintf("; this controller's container %s is not among the containers Rancher reports for %s", cmp.Or(self.Name, self.IP), svc)
	}
	return e
}
