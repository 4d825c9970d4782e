package rancherapi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
)

// Defaults for Options. Each one carries its reason.
const (
	// DefaultTimeout matches go-rancher's own per-request default.
	DefaultTimeout = 10 * time.Second
	// DefaultPingTimeout is three of Cattle's 5 s ping events: one late
	// ping is tolerated, a dead TCP connection is noticed within 15 s.
	DefaultPingTimeout = 15 * time.Second
	// DefaultPageSize keeps a 2,000-container environment to two or three
	// pages; Cattle's cap is 3000 and its default (100) would need 20.
	DefaultPageSize = 1000
	// DefaultReconnectMin is the first reconnect delay of the event stream.
	DefaultReconnectMin = 500 * time.Millisecond
	// DefaultReconnectMax caps the reconnect delay so that a recovered
	// Rancher is seen again within half a minute.
	DefaultReconnectMax = 30 * time.Second
	// DefaultHealthyPeriod is how long a stream must stay up before the
	// reconnect delay starts again from ReconnectMin.
	DefaultHealthyPeriod = 30 * time.Second
	// DefaultEventQueue: a Cattle tick carries one event per object that
	// changed, so 4,096 events hold a tick in which every container of a
	// 4,000-container environment changed, while the cache is busy with a
	// snapshot (milliseconds). Cattle itself drops a subscriber with more
	// than 100 messages queued on its side.
	DefaultEventQueue = 4096
)

// ClusterRef names one clustered service group of the config: a stack and
// its services. cmd/controller builds it from config.Cluster.
type ClusterRef struct {
	Name     string
	Stack    string
	Services []string
}

// Options configure a Client. URL, AccessKey, SecretKey and Clusters are
// required; every other field has a default.
type Options struct {
	// URL is the Rancher API URL in any form a user gives:
	// http://h:8080, http://h:8080/v1, .../v2-beta, .../v2-beta/projects/1a5,
	// .../v2-beta/projects/1a5/schemas, or a UI URL .../env/1a5. Without a
	// project the single project the key can see is used.
	URL string
	// AccessKey and SecretKey are the API key. SecretKey is never logged
	// nor put into errors.
	AccessKey string
	SecretKey string
	// Clusters are the stacks and services to observe, in config order;
	// Client.SetClusters replaces them. It may be empty.
	Clusters []ClusterRef
	// WatchLabel, if set, makes every event about a service whose launch
	// config carries this label relevant (Watch calls onChange), wherever
	// the service is: clusters defined by labels (LabelledServices) may
	// live in stacks no cluster names yet.
	WatchLabel string
	// Timeout bounds each HTTP request and the websocket handshake.
	// Default 10s.
	Timeout time.Duration
	// PingTimeout is the websocket read deadline, renewed by every frame
	// (Cattle sends a ping event every 5 s). Default 15s.
	PingTimeout time.Duration
	// PageSize is the limit of every list request. Default 1000.
	PageSize int
	// ReconnectMin and ReconnectMax bound the jittered exponential delay
	// between event stream reconnects. Defaults 500ms and 30s.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// HealthyPeriod: a stream that stayed up this long resets the reconnect
	// delay. Default 30s.
	HealthyPeriod time.Duration
	// EventQueue bounds the events waiting between the stream's reader and
	// the cache (their total size is bounded too, by maxQueuedBytes). When
	// it is full, events are behind: they are dropped and the cache is not
	// used until the next full list. Default 4096.
	EventQueue int
	// TLS, if set, is the TLS configuration of the event stream's
	// websocket (wss://): typically the system pool plus a private CA.
	// go-rancher's own HTTP requests (schemas, by-id reads) cannot be
	// given one: its ClientOpts has no transport and its clients use
	// http.DefaultTransport, as the list pages this package reads itself
	// do (pages.go), so the caller must install the same configuration
	// there before New (cmd/controller does, once at start).
	// Nil: Go's defaults, which honour SSL_CERT_FILE and SSL_CERT_DIR.
	TLS *tls.Config
	// Logger receives the event stream's and the cache's state changes.
	// Default: discard.
	Logger logr.Logger
	// OnRequest, if set, is called after every API request with the method,
	// the collection path (no host, id or query, so it suits metric labels)
	// and the status code; 0 means a transport error or timeout.
	OnRequest func(method, path string, status int)
}

// withDefaults returns a copy of o with defaults filled in.
func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = DefaultPingTimeout
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.ReconnectMin <= 0 {
		o.ReconnectMin = DefaultReconnectMin
	}
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = max(DefaultReconnectMax, o.ReconnectMin)
	}
	if o.HealthyPeriod <= 0 {
		o.HealthyPeriod = DefaultHealthyPeriod
	}
	if o.EventQueue <= 0 {
		o.EventQueue = DefaultEventQueue
	}
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	if o.OnRequest == nil {
		o.OnRequest = func(string, string, int) {}
	}
	return o
}

// validate reports every missing required field at once.
func (o Options) validate() error {
	var errs []error
	if o.URL == "" {
		errs = append(errs, errors.New("url: required (set CATTLE_URL or RANCHER_URL)"))
	}
	if err := validateClusters(o.Clusters); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return terminal(fmt.Errorf("invalid rancherapi options: %w", errors.Join(errs...)))
	}
	return nil
}
