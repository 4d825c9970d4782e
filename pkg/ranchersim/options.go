package ranchersim

import (
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
	// Metadata configures rancher-metadata and Rancher DNS (reload
	// interval, X-Forwarded-For); the zero value is Rancher's defaults.
	Metadata MetadataOptions
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
	// Logger receives lifecycle and request logs. nil: discard.
	Logger *slog.Logger
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
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
