package ranchersim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Object kinds, as API types.
const (
	typeProject   = "project"
	typeStack     = "stack"
	typeService   = "service"
	typeContainer = "container"
	typeInstance  = "instance"
	typeHost      = "host"
	typeSetting   = "setting"
)

// objKey names one object for change tracking.
type objKey struct {
	typ string
	id  string
}

// host is a Rancher host. Containers are placed on the host with the fewest.
type host struct {
	id, name, uuid string
	description    string
	agentIP        string
	labels         map[string]string
	state          string // active, inactive, removed (host processes)
	created        time.Time
	removed        time.Time
	removeTime     time.Time // purged after it
	cut            bool      // CutOffHost: its containers stop answering health checks
}

type stack struct {
	id, name, uuid string
	description    string
	state          string
	startOnCreate  bool
	dockerCompose  string // as created or last upgraded
	rancherCompose string
	prevCompose    [2]string // before the last upgrade, restored by rollback
	environment    map[string]string
	outputs        map[string]string
	externalID     string
	group          string
	transMsg       string // transitioningMessage
	created        time.Time
	removed        time.Time
	removeTime     time.Time
}

// service is a Rancher service of kind "service".
type service struct {
	id, name, uuid string
	stackID        string
	state          string
	healthState    string
	scale          int64
	currentScale   int64
	createIndex    int64
	labels         map[string]string
	env            map[string]string
	image          string       // launch config imageUuid
	noSystemLabels bool         // containers carry only labels
	health         *HealthCheck // with defaults applied
	version        string       // launch config version
	prevVersion    string
	prev           *launchConfig  // launch config before the last upgrade
	upgrade        map[string]any // last upgrade input, rendered as "upgrade"
	upgradeP       *upgradeParams // the running or last upgrade, for continueupgrade
	description    string
	startOnCreate  bool
	links          map[string]string // linkedServices: name -> service id
	errMsg         string            // last failure to bring a unit up, shown as transitioning "error"
	failures       int               // consecutive failed starts, for the retry backoff
	created        time.Time
	removed        time.Time
	removeTime     time.Time

	queue   []op // guarded by Sim.mu
	running bool // a worker goroutine drains queue
}

// op is a unit of service work, run by the service's worker in order.
type op struct {
	name string
	fn   func(ctx context.Context)
}

// container is an instance of kind "container" that belongs to a service.
type container struct {
	id, name, uuid   string
	serviceID        string
	stackID          string
	hostID           string
	ip               string
	state            string
	healthState      string
	createIndex      int64
	serviceIndex     int
	startCount       int64
	externalID       string
	deploymentUnit   string
	version          string
	image            string // imageUuid of the launch config it was created from
	description      string
	created          time.Time
	firstRunning     time.Time
	removed          time.Time
	removeTime       time.Time
	upgradeOld       bool // stopped by an upgrade, kept until finishupgrade
	wasHealthy       bool // next start begins with reinitializing
	forceFail        bool // FailHealth
	gen              int  // run generation; stale exited callbacks are ignored
	stopHealth       context.CancelFunc
	transitioningMsg string
}

// transitioning states of containers, services, stacks and hosts.
var transitioningStates = map[string]bool{
	"requested": true, "creating": true, "starting": true, "stopping": true,
	"restarting": true, "removing": true, "erroring": true, "purging": true,
	"registering": true, "activating": true, "deactivating": true,
	"updating-active": true, "updating-inactive": true, "upgrading": true,
	"finishing-upgrade": true, "rolling-back": true, "canceling-upgrade": true,
	"updating-running": true, "updating-stopped": true, "migrating": true,
	"restoring": true,
}

// transitionalHealth are health states that are still moving.
var transitionalHealth = map[string]bool{
	"initializing": true, "reinitializing": true, "updating-healthy": true,
	"updating-unhealthy": true, "updating-reinitializing": true,
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newDockerID returns a 64-hex-digit Docker container id.
func newDockerID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// idPrefix is Cattle's obfuscated id prefix per type
// (TypeIdFormatter: "1" + short type).
var idPrefix = map[string]string{
	typeProject: "1a", typeStack: "1st", typeService: "1s",
	typeContainer: "1i", typeHost: "1h",
}

// firstDBID makes ids look like a live Cattle's (1st5, 1s12, 1i34, 1h1).
var firstDBID = map[string]int64{typeStack: 5, typeService: 12, typeContainer: 34, typeHost: 1}

// dbID returns the numeric part of an obfuscated id, or -1.
func dbID(id string) int64 {
	i := strings.IndexFunc(id[min(1, len(id)):], func(r rune) bool { return r >= '0' && r <= '9' })
	if !strings.HasPrefix(id, "1") || i < 0 {
		return -1
	}
	n, err := strconv.ParseInt(id[1+i:], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// formatTime renders Cattle's ISO-8601 timestamps.
func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// millis renders Cattle's epoch-millisecond timestamps.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// nullable renders "" as JSON null, as Cattle does for unset fields.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func copyLabels(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// errNotFound and friends carry an HTTP status and a Cattle error code.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%s: %s", e.code, e.msg) }

func notFound(what string) error {
	return &apiError{status: 404, code: "NotFound", msg: what + " not found"}
}

func invalidState(what, state string) error {
	return &apiError{status: 422, code: "InvalidState", msg: fmt.Sprintf("%s is %s", what, state)}
}

func invalidInput(code, msg string) error {
	return &apiError{status: 422, code: code, msg: msg}
}

// notSupported is the answer to what Cattle has and the simulator does
// not simulate: 422 NotSupported saying what.
func notSupported(what string) error {
	return &apiError{status: 422, code: "NotSupported", msg: what + " is not simulated"}
}

// conflict is Cattle's answer to a process scheduled from a state it
// cannot start from (ProcessCancelException -> 409).
func conflict(typ, id, action, state string) error {
	return &apiError{status: 409, code: "Conflict", msg: fmt.Sprintf(
		"State [%s] is not valid for process [%s.%s] on resource [%s]", state, typ, action, id)}
}

// methodNotAllowed is the answer to a method the schema does not allow.
func methodNotAllowed(method, typ string) error {
	return &apiError{status: 405, code: "MethodNotAllowed", msg: method + " is not allowed on " + typ}
}
