package ops

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drover-mesh/drover/pkg/reconcile"
)

// Namespace prefixes every drover metric.
const Namespace = "drover"

// passBuckets span a pass over a few nodes (about a millisecond) to one
// held up by a status timeout (seconds).
func passBuckets() []float64 {
	return []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// pushBuckets span a warm agent round trip (about 0.5 ms) to a call that
// hits the call timeout (3 s by default).
func pushBuckets() []float64 {
	return []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
}

// StreamInfo is what the metrics read from the Rancher event stream at
// scrape time. *rancherapi.Client implements it.
type StreamInfo interface {
	StreamConnected() bool
	Reconnects() int64
}

// Metrics holds drover's Prometheus metrics. It implements
// reconcile.Recorder, and OnRequest suits rancherapi.Options.OnRequest.
// Its methods are safe for concurrent use.
type Metrics struct {
	passes       *prometheus.CounterVec
	passDuration prometheus.Histogram
	lastObserved prometheus.Gauge
	pushes       *prometheus.CounterVec
	pushLatency  *prometheus.HistogramVec
	members      *prometheus.GaugeVec
	converged    *prometheus.GaugeVec
	stale        prometheus.Gauge
	requests     *prometheus.CounterVec
	reloads      *prometheus.CounterVec
	reloadOK     prometheus.Gauge
	reloadAt     prometheus.Gauge
	leader       prometheus.Gauge

	mu     sync.Mutex // guards stream
	stream StreamInfo
}

var _ reconcile.Recorder = (*Metrics)(nil)

// NewMetrics creates drover's metrics and registers them with reg (a
// *prometheus.Registry; nil means a new private one, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "passes_total",
			Help: "Reconcile passes by result: ok, error (some nodes failed), aborted (Rancher not observed; nothing done)."},
			[]string{"result"}),
		passDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "pass_duration_seconds",
			Help: "Wall time of one reconcile pass.", Buckets: passBuckets()}),
		lastObserved: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "last_observed_timestamp_seconds",
			Help: "Unix time of the end of the last pass that observed Rancher completely."}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "pushes_total",
			Help: "Calls that change a node, by action (set-peers, leave) and result (ok, error, stale)."},
			[]string{"action", "result"}),
		pushLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "push_latency_seconds",
			Help: "Latency of calls that change a node, retries included.", Buckets: pushBuckets()}, []string{"action"}),
		members: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "cluster_members",
			Help: "Members of each cluster (running and healthy containers) after the last observing pass."},
			[]string{"cluster"}),
		converged: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "cluster_converged",
			Help: "1 when every member of the cluster holds its desired peers and is connected to them."},
			[]string{"cluster"}),
		stale: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "stale",
			Help: "1 while the last observation of Rancher failed: the view is stale and nothing is changed."}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "rancher_requests_total",
			Help: "Rancher API requests by method, collection path and status code (0: transport error or timeout)."},
			[]string{"method", "path", "code"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "config_reloads_total",
			Help: "Reloads of the config file (SIGHUP or a change of the file) by result: ok, error (the last good configuration keeps running)."},
			[]string{"result"}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "config_last_reload_successful",
			Help: "1 when the config file in effect is the file on disk (the last reload, if any, succeeded); 0 while a bad file is ignored."}),
		reloadAt: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time the config file in effect was loaded."}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "leader",
			Help: "1 while this controller leads (changes nodes); 0 while it stands by."}),
	}
	m.reloadOK.Set(1)
	for _, r := range []string{"ok", "error"} {
		m.reloads.WithLabelValues(r) // both results exported from the start, at 0
	}
	reg.MustRegister(m.passes, m.passDuration, m.lastObserved, m.pushes, m.pushLatency, m.members, m.converged,
		m.stale, m.requests, m.reloads, m.reloadOK, m.reloadAt, m.leader,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: "event_stream_reconnects_total",
			Help: "Times the Rancher event stream was lost (or could not be opened) and reopened."},
			func() float64 { return float64(m.streamReconnects()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "event_stream_connected",
			Help: "1 while the Rancher event stream is connected."},
			func() float64 { return boolFloat(m.streamConnected()) }),
	)
	return m
}

// SetStream tells the metrics where to read the event stream's state;
// until it is called, the stream counts as not connected.
func (m *Metrics) SetStream(s StreamInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stream = s
}

func (m *Metrics) streamInfo() StreamInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stream
}

func (m *Metrics) streamReconnects() int64 {
	if s := m.streamInfo(); s != nil {
		return s.Reconnects()
	}
	return 0
}

func (m *Metrics) streamConnected() bool {
	s := m.streamInfo()
	return s != nil && s.StreamConnected()
}

// Pass implements reconcile.Recorder.
func (m *Metrics) Pass(result string, d time.Duration) {
	m.passes.WithLabelValues(result).Inc()
	m.passDuration.Observe(d.Seconds())
	if result != "aborted" {
		m.lastObserved.SetToCurrentTime()
	}
}

// Push implements reconcile.Recorder.
func (m *Metrics) Push(action reconcile.Action, result string, latency time.Duration) {
	m.pushes.WithLabelValues(string(action), result).Inc()
	m.pushLatency.WithLabelValues(string(action)).Observe(latency.Seconds())
}

// Cluster implements reconcile.Recorder.
func (m *Metrics) Cluster(name string, members int, converged bool) {
	m.members.WithLabelValues(name).Set(float64(members))
	m.converged.WithLabelValues(name).Set(boolFloat(converged))
}

// Stale implements reconcile.Recorder.
func (m *Metrics) Stale(stale bool) { m.stale.Set(boolFloat(stale)) }

// Forget implements reconcile.Recorder: a cluster that left the
// configuration has no member or convergence series any more.
func (m *Metrics) Forget(cluster string) {
	m.members.DeleteLabelValues(cluster)
	m.converged.DeleteLabelValues(cluster)
}

// Reload records one reload of the config file: ok, or not (the last good
// configuration keeps running).
func (m *Metrics) Reload(ok bool) {
	result := "ok"
	if !ok {
		result = "error"
	}
	m.reloads.WithLabelValues(result).Inc()
	m.reloadOK.Set(boolFloat(ok))
	if ok {
		m.reloadAt.SetToCurrentTime()
	}
}

// Loaded records when the config file in effect was loaded (at start).
func (m *Metrics) Loaded(at time.Time) { m.reloadAt.Set(float64(at.UnixNano()) / 1e9) }

// Leader records whether this controller leads.
func (m *Metrics) Leader(leader bool) { m.leader.Set(boolFloat(leader)) }

// OnRequest counts one Rancher API request; it suits
// rancherapi.Options.OnRequest. path is a collection path (no id, no
// query), which keeps the label set small.
func (m *Metrics) OnRequest(method, path string, status int) {
	m.requests.WithLabelValues(method, path, strconv.Itoa(status)).Inc()
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
