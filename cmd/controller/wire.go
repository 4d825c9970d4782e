package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/ops"
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// The node client satisfies the reconciler's interface (adapters.go
// routes each cluster to one).
var _ reconcile.Nodes = (*nodeapi.Client)(nil)

// Retry pace while Rancher cannot be reached at start.
const (
	connectRetryMin = time.Second
	connectRetryMax = 30 * time.Second
)

// rancherTickerOff keeps rancherapi.Watch's own resync ticker out of the
// way: the reconciler's scheduler owns the resync (spec.controller.
// resyncInterval). The ticker goes when pkg/rancherapi gets its cache.
const rancherTickerOff = 24 * time.Hour

// wiring is the built controller and what the ops server needs.
type wiring struct {
	controller *reconcile.Controller
	rancher    *rancherapi.Client
	// announce serves the node-facing endpoint; nil when not configured.
	announce *nodeapi.Server
	listener net.Listener
}

// wire resolves tokens and builds the adapters and the controller.
// m receives the metrics (see ops.go).
func wire(ctx context.Context, o *options, f *config.File, log logr.Logger, m *ops.Metrics) (*wiring, error) {
	tokens, err := resolveTokens(f, o.lookupEnv)
	if err != nil {
		return nil, &usageError{err}
	}
	rc, err := connectRancher(ctx, o, f, log, m)
	if err != nil {
		return nil, err
	}
	nodeTLS, err := nodeTLS(f)
	if err != nil {
		return nil, &usageError{err}
	}
	nodes, err := newClusterNodes(f.Spec.Clusters, nodeapi.ClientOptions{
		Tokens: func(cluster string) string { return tokens[cluster].Reveal() },
		TLS:    nodeTLS,
		Logger: log.WithName("nodeapi"),
	})
	if err != nil {
		return nil, fmt.Errorf("building node client: %w", err)
	}
	c := f.Spec.Controller
	ra := &rancherAdapter{c: rc}
	ctl, err := reconcile.New(reconcile.Options{
		Observer:        ra,
		Watcher:         ra,
		Lookup:          ra,
		Nodes:           nodes,
		Clusters:        f.Spec.Clusters,
		ResyncInterval:  c.ResyncInterval.Duration,
		DriftInterval:   c.DriftInterval.Duration,
		MinEventGap:     c.MinEventGap.Duration,
		Parallelism:     c.Parallelism,
		DryRun:          o.dryRun,
		IsStaleRevision: nodeapi.IsStaleRevision,
		Logger:          log.WithName("reconcile"),
		Recorder:        m,
	})
	if err != nil {
		return nil, fmt.Errorf("building controller: %w", err)
	}
	w := &wiring{controller: ctl, rancher: rc}
	if c.Announce.Listen != "" && !o.once {
		if err := w.listenAnnounce(c.Announce, o.lookupEnv, log); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// resolveTokens reads each cluster's admin token.
func resolveTokens(f *config.File, lookupEnv func(string) (string, bool)) (map[string]config.Secret, error) {
	tokens := map[string]config.Secret{}
	var errs []error
	for i, c := range f.Spec.Clusters {
		s, err := config.ResolveSecret(c.Admin.Token, lookupEnv, config.ReadSecretFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.clusters[%d].admin.token: %w", i, err))
		}
		tokens[c.Name] = s
	}
	return tokens, errors.Join(errs...)
}

// connectRancher builds the Rancher client. A terminal error (bad key, a
// stack or service that does not exist) ends the controller with one
// message; a transient one is retried until ctx ends, except with --once.
func connectRancher(ctx context.Context, o *options, f *config.File, log logr.Logger, m *ops.Metrics) (*rancherapi.Client, error) {
	refs := make([]rancherapi.ClusterRef, len(f.Spec.Clusters))
	for i, c := range f.Spec.Clusters {
		refs[i] = rancherapi.ClusterRef{Name: c.Name, Stack: c.Stack, Services: c.Services}
	}
	tlsConfig, err := rancherTLS(o.rancherCAFile)
	if err != nil {
		return nil, &usageError{err}
	}
	if tlsConfig != nil {
		useRancherTLS(tlsConfig) // for go-rancher's requests; see its doc
	}
	opts := rancherapi.Options{
		URL: o.rancherURL, AccessKey: o.rancherAccessKey, SecretKey: o.rancherSecretKey.Reveal(),
		Clusters: refs, ResyncInterval: rancherTickerOff, Logger: log.WithName("rancher"),
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
func (w *wiring) listenAnnounce(a config.Announce, lookupEnv func(string) (string, bool), log logr.Logger) error {
	token, err := config.ResolveSecret(a.Token, lookupEnv, config.ReadSecretFile)
	if err != nil {
		return &usageError{fmt.Errorf("spec.controller.announce.token: %w", err)}
	}
	ctl := w.controller
	srv, err := nodeapi.NewAnnounceServer(nodeapi.AnnounceOptions{
		Token:         token.Reveal(),
		RatePerSecond: a.RatePerSecond,
		OnAnnounce:    func(an nodeapi.Announcement) { ctl.Announce(an.Event, an.IP) },
		TLS:           announceTLS(a.TLS),
		Logger:        log.WithName("announce"),
	})
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

// run runs the controller and the announce endpoint until ctx ends. Nothing
// is pushed on the way out: nodes keep their connections.
func (w *wiring) run(ctx context.Context, log logr.Logger) error {
	var wg sync.WaitGroup
	defer wg.Wait()
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
