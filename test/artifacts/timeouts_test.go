package artifacts

import (
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeagent"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// beamDefaults reads the BEAM agent's default options (the integers of
// the DEFAULTS map in agent/src/drover_agent.erl).
func beamDefaults(t *testing.T) map[string]int {
	t.Helper()
	src, err := os.ReadFile("../../agent/src/drover_agent.erl")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)-define\(DEFAULTS, #\{(.*?)\}\)\.`).FindSubmatch(src)
	if block == nil {
		t.Fatal("agent/src/drover_agent.erl: no -define(DEFAULTS, #{...}). found")
	}
	out := map[string]int{}
	for _, m := range regexp.MustCompile(`([a-z_]+) => (\d+)`).FindAllSubmatch(block[1], -1) {
		n, err := strconv.Atoi(string(m[2]))
		if err != nil {
			t.Fatalf("default %s: %v", m[1], err)
		}
		out[string(m[1])] = n
	}
	return out
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// TestTimeoutsNest checks that the default timeouts of the controller, the
// Go agent and the BEAM agent nest as the protocol needs, and that the
// BEAM agent's defaults are the Go side's: a peer connect ends before the
// attempt that asked for it, a dial before its attempt, an attempt before
// its call; an agent never cuts a controller's request short; an
// announcement is given up before the controller's endpoint would.
func TestTimeoutsNest(t *testing.T) {
	beam := beamDefaults(t)
	for _, k := range []string{"port", "connect_timeout", "announce_timeout", "head_timeout", "body_timeout",
		"idle_timeout", "max_body", "max_connections", "max_connections_per_source"} {
		if _, ok := beam[k]; !ok {
			t.Fatalf("agent/src/drover_agent.erl: DEFAULTS has no integer %s", k)
		}
	}
	attempt := config.DefaultAdminTimeout
	call := reconcile.CallTimeoutFor(attempt)
	less := []struct {
		what        string
		short, long time.Duration
	}{
		{"Go agent peer connect < attempt", nodeagent.DefaultConnectTimeout, attempt},
		{"BEAM agent connect_timeout < attempt", ms(beam["connect_timeout"]), attempt},
		{"client dial < attempt", nodeapi.DialTimeoutFor(attempt), attempt},
		{"attempt < call", attempt, call},
		{"status reads of a pass < call", reconcile.DefaultStatusTimeout, call},
		{"attempt < BEAM head_timeout (the controller gives up first)", attempt, ms(beam["head_timeout"])},
		{"attempt < Go server head timeout", attempt, nodeapi.DefaultHeadTimeout},
		{"client idle < BEAM idle_timeout (the client closes first)", nodeapi.IdleConnTimeout, ms(beam["idle_timeout"])},
		{"BEAM announce_timeout < announce endpoint head timeout", ms(beam["announce_timeout"]), nodeapi.DefaultHeadTimeout},
		{"Go announce timeout < announce endpoint head timeout", nodeapi.DefaultAnnounceTimeout, nodeapi.DefaultHeadTimeout},
	}
	for _, tt := range less {
		if tt.short >= tt.long {
			t.Errorf("%s: %v is not below %v", tt.what, tt.short, tt.long)
		}
	}
	same := []struct {
		what     string
		goV, erl int64
	}{
		{"admin port", mesh.DefaultAdminPort, int64(beam["port"])},
		{"peer connect timeout", nodeagent.DefaultConnectTimeout.Milliseconds(), int64(beam["connect_timeout"])},
		{"announce timeout", nodeapi.DefaultAnnounceTimeout.Milliseconds(), int64(beam["announce_timeout"])},
		{"head timeout", nodeapi.DefaultHeadTimeout.Milliseconds(), int64(beam["head_timeout"])},
		{"body timeout", nodeapi.DefaultBodyTimeout.Milliseconds(), int64(beam["body_timeout"])},
		{"idle timeout", nodeapi.DefaultIdleTimeout.Milliseconds(), int64(beam["idle_timeout"])},
		{"max body", nodeapi.MaxBodyBytes, int64(beam["max_body"])},
		{"max connections", nodeapi.DefaultMaxConns, int64(beam["max_connections"])},
		{"max connections per source", nodeapi.DefaultMaxConnsPerSource, int64(beam["max_connections_per_source"])},
	}
	http, err := os.ReadFile("../../agent/src/drover_agent_http.erl")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		macro string
		goV   time.Duration
	}{{"REANNOUNCE_GAP", nodeagent.ReannounceGap}, {"REANNOUNCE_FOR", nodeagent.ReannounceFor}} {
		def := regexp.MustCompile(`-define\(` + m.macro + `, (\d+)\)\.`).FindSubmatch(http)
		if def == nil {
			t.Errorf("agent/src/drover_agent_http.erl: no -define(%s, N).", m.macro)
			continue
		}
		same = append(same, struct {
			what     string
			goV, erl int64
		}{m.macro, m.goV.Milliseconds(), mustAtoi(t, string(def[1]))})
	}
	for _, tt := range same {
		if tt.goV != tt.erl {
			t.Errorf("%s: Go default %d, BEAM agent default %d (agent/src/drover_agent.erl): make them one", tt.what, tt.goV, tt.erl)
		}
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
