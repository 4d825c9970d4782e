package main

import (
	"context"
	"net"
	"net/http"
	"sync"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// relayQueue bounds the announcements a standby holds for the leader; an
// announcement is only a hint, so a full queue acts on it here instead.
const relayQueue = 256

// announceRelay is the announce endpoint's dispatcher with an election.
// Nodes reach the controller's service through Rancher DNS, which names
// every container of it, so some announcements reach the standby: it
// relays them to the leader's announce endpoint (the leader then reads
// Rancher at once, as if the node had called it). What comes from a
// controller of the service is never relayed again, so two controllers
// that disagree for a moment on who leads cannot pass an announcement
// back and forth. Without a known leader, or when relaying fails, the
// announcement is taken here (the standby reads and shows it; the
// leader's event still comes).
type announceRelay struct {
	el    *elector
	port  string
	token string
	local func(nodeapi.Announcement)
	log   logr.Logger

	queue chan nodeapi.Announcement
	mu    sync.Mutex
	to    map[string]*nodeapi.Announcer // by leader IP
}

func newAnnounceRelay(el *elector, listen, token string, local func(nodeapi.Announcement), log logr.Logger) *announceRelay {
	_, port, _ := net.SplitHostPort(listen)
	return &announceRelay{el: el, port: port, token: token, local: local, log: log,
		queue: make(chan nodeapi.Announcement, relayQueue), to: map[string]*nodeapi.Announcer{}}
}

// handler serves announcements: those from a controller of the service
// with fromController, the others with fromNode.
func (r *announceRelay) handler(fromController, fromNode http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		host, _, _ := net.SplitHostPort(req.RemoteAddr)
		if r.el.isController(host) {
			fromController.ServeHTTP(w, req)
			return
		}
		fromNode.ServeHTTP(w, req)
	})
}

// take is the OnAnnounce of announcements from nodes: relayed while
// another controller leads, taken here otherwise.
func (r *announceRelay) take(an nodeapi.Announcement) {
	ip, leading := r.el.leader()
	if leading || ip == "" {
		r.local(an)
		return
	}
	select {
	case r.queue <- an:
	default:
		r.local(an)
	}
}

// run relays queued announcements until ctx ends.
func (r *announceRelay) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case an := <-r.queue:
			ip, leading := r.el.leader()
			if leading || ip == "" {
				r.local(an)
				continue
			}
			if err := r.announcer(ip).Announce(ctx, an.Event, an.Node, an.IP); err != nil {
				r.log.V(1).Info("relaying an announcement to the leader; taking it here", "leader", ip, "ip", an.IP, "error", err.Error())
				r.local(an)
			}
		}
	}
}

// announcer returns the announcer of the leader at ip.
func (r *announceRelay) announcer(ip string) *nodeapi.Announcer {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.to[ip]
	if a == nil {
		clear(r.to) // one leader at a time
		a = nodeapi.NewAnnouncer("http://"+net.JoinHostPort(ip, r.port), r.token, r.log)
		r.to[ip] = a
	}
	return a
}
