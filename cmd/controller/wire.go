package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/ops"
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// The node client satisfies the reconciler's interface (noderouter.go
// routes each cluster to one).
var _ reconcile.Nodes = (*nodeapi.Client)(nil)

// Retry pace while Rancher cannot be reached at start.
const (
	connectRetryMin = time.Second
	connectRetryMax = 30 * time.Second
)

// wiring is the built controller and what the ops server needs.
type wiring struct {
	controller *reconcile.Controller
	rancher    *rancherapi.Client
	source     *clusterSource
	// announce serves the node-facing endpoint; nil when not configured.
	// relay hands a standby's announcements to the leader; nil without an
	// election.
	announce *nodeapi.Server
	relay    *announceRelay
	listener net.Listener
}

// wire builds the adapters and the controller from the configuration
// loaded at start. m receives the metrics (see ops.go).
func wire(ctx context.Context, o *options, cfg *loaded, log logr.Logger, m *ops.Metrics) (*wiring, error) {
	var self *rancherapi.ClusterRef
	var el *elector
	if o.leaderElection == electionRancher {
		s, err := findSelf(ctx, o, log.WithName("election"))
		if err != nil {
			return nil, fmt.Errorf("leader election: %w", err)
		}
		ref := s.ref()
		self, el = &ref, newElector(s)
	}
	refs := make([]rancherapi.ClusterRef, 0, len(cfg.file.Spec.Clusters)+1)
	for _, c := range cfg.file.Spec.Clusters {
		refs = append(refs, rancherapi.ClusterRef{Name: c.Name, Stack: c.Stack, Services: c.Services})
	}
	if self != nil {
		refs = append(refs, *self)
	}
	rc, err := connectRancher(ctx, o, refs, log, m)
	if err != nil {
		return nil, err
	}
	router := newNodeRouter(nodeapi.ClientOptions{Logger: log.WithName("nodeapi")})
	src := newClusterSource(cfg, rc, router, self, true, log.WithName("config"))
	c := cfg.file.Spec.Controller
	opts := reconcile.Options{
		Observer:        rc,
		Watcher:         rc,
		Lookup:          rc,
		Nodes:           router,
		Source:          src,
		ResyncInterval:  c.ResyncInterval.Duration,
		DriftInterval:   c.DriftInterval.Duration,
		MinEventGap:     c.MinEventGap.Duration,
		Parallelism:     c.Parallelism,
		DryRun:          o.dryRun,
		IsStaleRevision: nodeapi.IsStaleRevision,
		Logger:          log.WithName("reconcile"),
		Recorder:        m,
	}
	if el != nil {
		opts.Elector = el
	}
	ctl, err := reconcile.New(opts)
	if err != nil {
		return nil, fmt.Errorf("building controller: %w", err)
	}
	w := &wiring{controller: ctl, rancher: rc, source: src}
	if c.Announce.Listen != "" && !o.once {
		if err := w.listenAnnounce(c.Announce, cfg, el, log); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// connectRancher builds the Rancher client. A terminal error (bad key, a
// stack or service that does not exist) ends the controller with one
// message; a transient one is retried until ctx ends, except with --once.
func connectRancher(ctx context.Context, o *options, refs []rancherapi.ClusterRef, log logr.Logger, m *ops.Metrics) (*rancherapi.Client, error) {
	tlsConfig, err := rancherTLS(o.rancherCAFile)
	if err != nil {
		return nil, &usageError{err}
	}
	if tlsConfig != nil {
		useRancherTLS(tlsConfig) // for go-rancher's requests; see its doc
	}
	opts := rancherapi.Options{
		URL: o.rancherURL, AccessKey: o.rancherAccessKey, SecretKey: o.rancherSecretKey.Reveal(),
		Clusters: refs, WatchLabel: config.LabelCluster, Logger: log.WithName("rancher"),
		OnRequest: m.OnRequest, TLS: tlsConfig,
	}
	delay := connectRetryMin
	for {
		rc, err := rancherapi.New(ctx, opts)
		switch {
		case err == nil:
			return rc, nil
		case rancherapi.IsTerminal(err), o.once, ctx.Err() != nil:
			return nil, fmt.Errorf("connecting to rancher: %w", err)
		}
		log.Error(err, "connecting to rancher; retrying", "in", delay)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connecting to rancher: %w", err)
		case <-time.After(delay):
		}
		delay = min(2*delay, connectRetryMax)
	}
}

// listenAnnounce opens the node-facing announce endpoint.
//
// With an election (and plain HTTP) announcements from nodes that reach a
// standby are relayed to the leader (relay.go).
func (w *wiring) listenAnnounce(a config.Announce, cfg *loaded, el *elector, log logr.Logger) error {
	token := cfg.secrets[a.Token]
	ctl := w.controller
	local := func(an nodeapi.Announcement) { ctl.Announce(an.Event, an.IP) }
	opts := nodeapi.AnnounceOptions{
		Token:         token.Reveal(),
		RatePerSecond: a.RatePerSecond,
		OnAnnounce:    local,
		TLS:           announceTLS(a.TLS),
		Logger:        log.WithName("announce"),
	}
	var srv *nodeapi.Server
	var err error
	if el != nil && a.TLS.IsZero() {
		w.relay = newAnnounceRelay(el, a.Listen, token.Reveal(), local, log.WithName("announce"))
		fromNodes := opts
		fromNodes.OnAnnounce = w.relay.take
		srv, err = nodeapi.NewServer(nodeapi.ServerOptions{Logger: opts.Logger,
			Handler: w.relay.handler(nodeapi.AnnounceHandler(opts), nodeapi.AnnounceHandler(fromNodes))})
	} else {
		srv, err = nodeapi.NewAnnounceServer(opts)
	}
	if err != nil {
		return &usageError{fmt.Errorf("spec.controller.announce.tls: %w", err)}
	}
	ln, err := net.Listen("tcp", a.Listen)
	if err != nil {
		return fmt.Errorf("announce endpoint: %w", err)
	}
	w.listener, w.announce = ln, srv
	log.Info("announce endpoint listening", "address", ln.Addr().String(), "tls", !a.TLS.IsZero())
	return nil
}

// run runs the controller, the announce endpoint and the config reloader
// until ctx ends. Nothing is pushed on the way out: nodes keep their
// connections.
func (w *wiring) run(ctx context.Context, o *options, m *ops.Metrics, hup <-chan os.Signal, log logr.Logger) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &reloader{path: o.configPath, lookupEnv: o.lookupEnv, source: w.source, changed: w.controller.ClustersChanged,
		counted: m.Reload, running: w.source.current().file, poll: o.configPoll, log: log.WithName("config")}
	wg.Go(func() { r.run(ctx, hup) })
	if w.relay != nil {
		wg.Go(func() { w.relay.run(ctx) })
	}
	if w.announce != nil {
		wg.Go(func() {
			if err := w.announce.Serve(w.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error(err, "announce endpoint stopped")
			}
		})
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = w.announce.Shutdown(sctx)
		}()
	}
	log.Info("controller started")
	err := w.controller.Run(ctx)
	log.Info("controller stopped")
	return err
}
