package ranchersim

import (
	"crypto/tls"
	"log/slog"
	"time"
)

// EventMode selects how resource.change events reach subscribers.
type EventMode int

const (
	// EventsCattle behaves as Cattle does: changed objects are collected and
	// published once per Tick, one event per object, rendered with the state
	// at send time (intermediate states are lost), purged objects dropped, no
	// order across objects, no replay.
	EventsCattle EventMode = iota
	// EventsExact delivers every transition of every object, in order,
	// rendered at the moment of the transition. Kinder than production; for
	// unit tests that want to see each step.
	EventsExact
)

// String returns "cattle" or "exact".
func (m EventMode) String() string {
	if m == EventsExact {
		return "exact"
	}
	return "cattle"
}

// Defaults of Options and of the simulated Rancher.
const (
	// DefaultAccessKey is the API access key when Options.AccessKey is empty.
	DefaultAccessKey = "drover-access"
	// DefaultSecretKey is the API secret key when Options.SecretKey is empty.
	DefaultSecretKey = "drover-secret"
	// DefaultTick is Cattle's task.resource.change.publish.schedule (1 s).
	DefaultTick = time.Second
	// DefaultStepDelay keeps each lifecycle state visible for a moment,
	// short enough for fast tests.
	DefaultStepDelay = 20 * time.Millisecond
	// DefaultIPRange is Rancher's managed network.
	DefaultIPRange = "10.42.0.0/16"
	// DefaultStopTimeout is Docker's stop timeout: SIGTERM, then SIGKILL.
	DefaultStopTimeout = 10 * time.Second
	// DefaultProjectID and DefaultProjectName describe the project of an
	// environment without fixture.
	DefaultProjectID   = "1a5"
	DefaultProjectName = "Default"
	// DefaultRemoveDelay is Cattle's object.remove.time.delay.seconds=-600:
	// a removed object is purged a random 0-600 s after its removal.
	DefaultRemoveDelay = -600 * time.Second
	// DefaultPurgeInterval is the period of Cattle's purge monitor.
	DefaultPurgeInterval = 60 * time.Second
	// ServerVersion is what the rancher.server.version setting answers.
	ServerVersion = "v1.6.30"
)

// pingInterval is Cattle's api.sub.ping.interval.millis.
const pingInterval = 5 * time.Second

// wsWriteTimeout is Cattle's async websocket write timeout: a reader that
// stalls longer is disconnected.
const wsWriteTimeout = time.Second

// maxQueuedEvents bounds a subscriber's queue; beyond it the subscriber is
// a slow reader and is disconnected, as Cattle does.
const maxQueuedEvents = 100000

// Options configure a Sim. The zero value is usable.
type Options struct {
	// Fixture describes the environment loaded at start. nil: an empty
	// project "1a5" named "Default" with one host.
	Fixture *Fixture
	// AccessKey defaults to DefaultAccessKey.
	AccessKey string
	// SecretKey defaults to DefaultSecretKey.
	SecretKey string
	// EventMode defaults to EventsCattle.
	EventMode EventMode
	// Tick is the Cattle-mode publish period, default DefaultTick.
	Tick time.Duration
	// StepDelay is the time each lifecycle step takes
	// (requested->creating->...), default DefaultStepDelay.
	StepDelay time.Duration
	// IPRange is the CIDR containers get their IPs from, default
	// DefaultIPRange; tests use "127.42.0.0/16". The .0, .1 and .255 of
	// every /24 are never handed out, nor an IP in use.
	IPRange string
	// Runtime starts and stops what containers stand for. Default
	// NoopRuntime: nothing runs, health checks are not probed, and a
	// container with a health check becomes healthy after healthyThreshold
	// intervals (unless FailHealth or CutOffHost say otherwise).
	Runtime Runtime
	// StopTimeout is the time between SIGTERM and SIGKILL when the
	// simulator stops a container, default DefaultStopTimeout.
	StopTimeout time.Duration
	// Shape renders objects as older Cattle servers (or the v1 API) do;
	// the zero value renders Cattle 1.6's v2-beta shape.
	Shape Shape
	// Latency delays every API answer (not metadata, DNS, the websocket's
	// frames or /_sim/), as a loaded Cattle does. Zero: no delay.
	Latency Latency
	// TLS, when set, serves the API and its websocket over TLS with this
	// configuration (it must hold a certificate): URL is https:// and
	// subscriptions are wss://. Metadata and DNS stay plain, as in Rancher.
	TLS *tls.Config
	// RemoveDelay is how long a removed object stays readable by id before
	// it is purged (Cattle's object.remove.time.delay.seconds): positive, a
	// fixed delay; negative, a random delay between 0 and its absolute
	// value. Default DefaultRemoveDelay (random, up to 10 minutes).
	RemoveDelay time.Duration
	// PurgeInterval is the period of the purge monitor, which purges what
	// is past its remove time. Default DefaultPurgeInterval.
	PurgeInterval time.Duration
	// Logger receives lifecycle and request logs. nil: discard.
	Logger *slog.Logger
}

// Shape selects payload shapes of older Cattle servers, which real
// clients meet (rancher-api.md §9.8). The zero value is Cattle 1.6's
// v2-beta shape.
type Shape struct {
	// NoContainerServiceRefs renders containers without stackId,
	// serviceId and serviceIds (older Cattle, the v1 API): membership is
	// then visible only through service instanceIds and the
	// io.rancher.stack_service.name label.
	NoContainerServiceRefs bool `json:"noContainerServiceRefs,omitempty"`
	// NoServiceInstanceIDs renders services without instanceIds.
	NoServiceInstanceIDs bool `json:"noServiceInstanceIDs,omitempty"`
	// NullLabels renders "labels": null for containers without labels
	// (see ServiceSpec.NoSystemLabels) instead of {}.
	NullLabels bool `json:"nullLabels,omitempty"`
	// NullHealthState renders containers without a health check as
	// published objects of older servers: healthState, healthCheck,
	// hostname, transitioningMessage and transitioningProgress null and
	// transitioning "no" in every state.
	NullHealthState bool `json:"nullHealthState,omitempty"`
}

// or returns the union of two shapes.
func (sh Shape) or(o Shape) Shape {
	return Shape{
		NoContainerServiceRefs: sh.NoContainerServiceRefs || o.NoContainerServiceRefs,
		NoServiceInstanceIDs:   sh.NoServiceInstanceIDs || o.NoServiceInstanceIDs,
		NullLabels:             sh.NullLabels || o.NullLabels,
		NullHealthState:        sh.NullHealthState || o.NullHealthState,
	}
}

// Latency is the time an API answer takes: Fixed for every request plus
// PerObject for every object in the answer (the resources of a
// collection page, or one).
type Latency struct {
	Fixed     time.Duration
	PerObject time.Duration
}

// of returns the latency of an answer with n objects.
func (l Latency) of(n int) time.Duration {
	return l.Fixed + time.Duration(n)*l.PerObject
}

// withDefaults returns opts with every default applied.
func (o Options) withDefaults() Options {
	if o.AccessKey == "" {
		o.AccessKey = DefaultAccessKey
	}
	if o.SecretKey == "" {
		o.SecretKey = DefaultSecretKey
	}
	if o.Tick <= 0 {
		o.Tick = DefaultTick
	}
	if o.StepDelay <= 0 {
		o.StepDelay = DefaultStepDelay
	}
	if o.IPRange == "" {
		o.IPRange = DefaultIPRange
	}
	if o.Runtime == nil {
		o.Runtime = NoopRuntime{}
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.RemoveDelay == 0 {
		o.RemoveDelay = DefaultRemoveDelay
	}
	if o.PurgeInterval <= 0 {
		o.PurgeInterval = DefaultPurgeInterval
	}
	if o.Latency.Fixed < 0 {
		o.Latency.Fixed = 0
	}
	if o.Latency.PerObject < 0 {
		o.Latency.PerObject = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
