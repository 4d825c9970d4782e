package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/ops"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// The metrics satisfy the reconciler's Recorder.
var _ reconcile.Recorder = (*ops.Metrics)(nil)

// opsHook is the ops server's view of the controller. It serves from the
// start, while the controller still waits for Rancher, and sees the
// controller once it is wired.
type opsHook struct {
	metrics *ops.Metrics
	wired   atomic.Pointer[wiring]
	server  *ops.Server // nil when --listen is empty or with --once
	ln      net.Listener
}

// newOpsHook builds the metrics and, unless --listen is empty or --once,
// the ops server, and opens its listener.
func newOpsHook(o *options, f *config.File, log logr.Logger) (*opsHook, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h := &opsHook{metrics: ops.NewMetrics(reg)}
	if o.listen == "" || o.once {
		return h, nil
	}
	srv, err := ops.NewServer(ops.Options{
		Status:   h.status,
		Ready:    h.ready,
		Registry: reg,
		Secrets:  opsSecrets(o, f),
		Logger:   log.WithName("ops"),
	})
	if err != nil {
		return nil, fmt.Errorf("building ops server: %w", err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, fmt.Errorf("ops server (--listen): %w", err)
	}
	h.server, h.ln = srv, ln
	return h, nil
}

// start serves until ctx ends or the returned stop is called; stop waits
// for the server to shut down.
func (h *opsHook) start(ctx context.Context, log logr.Logger) func() {
	if h.server == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := h.server.Serve(ctx, h.ln); err != nil && !errors.Is(err, context.Canceled) {
			log.Error(err, "ops server stopped")
		}
	})
	log.Info("ops server listening", "address", h.ln.Addr().String())
	return func() {
		cancel()
		wg.Wait()
	}
}

// setWired hands the built controller to the ops server.
func (h *opsHook) setWired(w *wiring) {
	h.metrics.SetStream(w.rancher)
	h.wired.Store(w)
}

func (h *opsHook) status() reconcile.Status {
	if w := h.wired.Load(); w != nil {
		return w.controller.Status()
	}
	return reconcile.Status{}
}

func (h *opsHook) ready() (bool, []string) {
	w := h.wired.Load()
	s := ops.ReadyState{ConfigLoaded: true, RancherConnected: w != nil}
	if w != nil {
		s.StreamConnected = w.rancher.StreamConnected()
		s.Status = w.controller.Status()
	}
	return ops.Readiness(s)
}

// opsSecrets lists what the ops server must never show: the Rancher keys
// and every token the config names (those that cannot be resolved are
// reported by wire, not here).
func opsSecrets(o *options, f *config.File) []string {
	out := append([]string{o.rancherAccessKey}, o.secretValues()...)
	refs := []config.SecretRef{f.Spec.Controller.Announce.Token}
	for _, c := range f.Spec.Clusters {
		refs = append(refs, c.Admin.Token)
	}
	for _, r := range refs {
		if s, err := config.ResolveSecret(r, o.lookupEnv, config.ReadSecretFile); err == nil {
			out = append(out, s.Reveal())
		}
	}
	return out
}
