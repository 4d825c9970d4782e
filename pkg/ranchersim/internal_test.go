package ranchersim

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestDecideHealth(t *testing.T) {
	hc := HealthCheck{Port: 1}.withDefaults()
	tests := []struct {
		name       string
		state      string
		succ, fail int64
		elapsed    time.Duration
		want       healthVerdict
	}{
		{"initializing, not enough successes", "initializing", 1, 0, 0, verdictNone},
		{"initializing, threshold reached", "initializing", 2, 0, 0, verdictHealthy},
		{"initializing failures do not count", "initializing", 0, 10, time.Second, verdictNone},
		{"initializing too long", "initializing", 0, 10, 60 * time.Second, verdictTimedOut},
		{"reinitializing too long", "reinitializing", 1, 0, 61 * time.Second, verdictTimedOut},
		{"healthy keeps", "healthy", 0, 2, 0, verdictNone},
		{"healthy to unhealthy", "healthy", 0, 3, 0, verdictUnhealthy},
		{"unhealthy recovers", "unhealthy", 2, 0, 0, verdictHealthy},
		{"transitional state waits", "updating-healthy", 5, 0, 0, verdictNone},
		{"strategy none is never cleaned up", "initializing", 0, 10, time.Hour, verdictNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hc := hc
			if strings.Contains(tc.name, "strategy none") {
				hc.Strategy = "none"
			}
			if got := decideHealth(tc.state, tc.succ, tc.fail, tc.elapsed, hc); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseConditionsAndMatch(t *testing.T) {
	filterable := map[string][]string{"name": stringMods, "state": stringMods, "createIndex": numberMods,
		"removed": numberMods, "serviceId": refMods}
	res := map[string]any{"name": "demo-web-2", "state": "running", "createIndex": int64(2), "removed": nil,
		"serviceId": "1s12"}
	tests := []struct {
		query string
		conds int
		match bool
	}{
		{"name=demo-web-2", 1, true},
		{"name=a&name=demo-web-2", 1, true},
		{"name_prefix=demo-web-", 1, true},
		{"name_like=demo-%25-2", 1, true},
		{"name_notlike=%25web%25", 1, false},
		{"state_ne=removed&state_ne=purged", 1, true},
		{"state_ne=running&state_ne=purged", 1, false},
		{"removed_null=1", 1, true},
		{"removed_notnull=1", 1, false},
		{"createIndex_gte=2&createIndex_lt=3", 2, true},
		{"createIndex_gt=10", 1, false},
		{"serviceId_prefix=1s", 0, true}, // prefix is not a modifier of references: ignored
		{"labels=x&nonsense_ne=1&limit=5&marker=m5", 0, true},
		{"serviceId=1s12", 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			conds := parseConditions(q, filterable)
			if len(conds) != tc.conds {
				t.Fatalf("conditions %+v", conds)
			}
			if got := matches(res, conds); got != tc.match {
				t.Fatalf("match %v, want %v", got, tc.match)
			}
		})
	}
}

func TestParsePaging(t *testing.T) {
	tests := []struct {
		query         string
		limit, offset int
	}{
		{"", 100, 0},
		{"limit=5", 5, 0},
		{"limit=0", 3000, 0},
		{"limit=-1", 3000, 0},
		{"limit=99999", 3000, 0},
		{"limit=5&marker=m10", 5, 10},
		{"marker=junk", 100, 0},
	}
	for _, tc := range tests {
		q, _ := url.ParseQuery(tc.query)
		if got := parsePaging(q); got.Limit != tc.limit || got.Offset != tc.offset {
			t.Errorf("%q: %+v", tc.query, got)
		}
	}
}

func TestIPPool(t *testing.T) {
	p, err := newIPPool("10.42.0.0/23")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for {
		ip, err := p.allocate()
		if err != nil {
			break
		}
		if seen[ip] {
			t.Fatalf("%s handed out twice", ip)
		}
		seen[ip] = true
	}
	if len(seen) != 2*253 || seen["10.42.0.0"] || seen["10.42.0.1"] || seen["10.42.0.255"] || seen["10.42.1.1"] {
		t.Fatalf("%d addresses", len(seen))
	}
	p.release("10.42.0.7")
	if ip, err := p.allocate(); err != nil || ip != "10.42.0.7" {
		t.Fatalf("after release: %s %v", ip, err)
	}
	if _, err := newIPPool("10.42.0.0/25"); err == nil {
		t.Fatal("a /25 accepted")
	}
}

func TestParseRoute(t *testing.T) {
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"/v2-beta", "", true},
		{"/v2-beta/projects/1a5/containers/1i34/", "containers/1i34", true},
		{"/v2-beta/projects/1a5", "projects/1a5", true},
		{"/v2-beta/projects/1a7/services", "projects/1a7/services", true},
		{"/v2-beta/services", "services", true},
		{"/v1/projects/1a5/schemas", "schemas", true},
		{"/other", "", false},
	}
	for _, tc := range tests {
		rt := parseRoute(tc.path, "1a5")
		got := ""
		for i, p := range rt.parts {
			if i > 0 {
				got += "/"
			}
			got += p
		}
		if rt.ok != tc.ok || got != tc.want {
			t.Errorf("%s: %q %v", tc.path, got, rt.ok)
		}
	}
}

func TestActionAllowedFollowsCattleProcesses(t *testing.T) {
	tests := []struct {
		typ, action, state string
		want               bool
	}{
		{typeContainer, "start", "stopped", true},
		{typeContainer, "start", "running", false},
		{typeContainer, "stop", "running", true},
		{typeContainer, "stop", "stopped", false},
		{typeContainer, "remove", "running", false},
		{typeContainer, "remove", "stopped", true},
		{typeContainer, "remove", "error", true},
		{typeContainer, "restart", "running", true},
		{typeContainer, "purge", "removed", true},
		{typeContainer, "restore", "removed", true},
		{typeContainer, "logs", "stopped", true},
		{typeContainer, "execute", "stopped", false},
		{typeContainer, "execute", "running", true},
		{typeContainer, "logs", "removed", false},
		{typeService, "upgrade", "inactive", true},
		{typeService, "upgrade", "upgraded", false},
		{typeService, "finishupgrade", "upgraded", true},
		{typeService, "cancelupgrade", "upgrading", true},
		{typeService, "continueupgrade", "canceled-upgrade", true},
		{typeService, "rollback", "canceled-upgrade", true},
		{typeService, "activate", "active", false},
		{typeService, "restart", "active", true},
		{typeService, "remove", "upgraded", true},
		{typeService, "addservicelink", "active", true},
		{typeStack, "upgrade", "canceled-upgrade", true},
		{typeStack, "update", "upgraded", false},
		{typeStack, "activateservices", "active", true},
		{typeHost, "remove", "active", false},
		{typeHost, "remove", "inactive", true},
		{typeHost, "activate", "inactive", true},
		{typeHost, "evacuate", "active", true},
	}
	for _, tc := range tests {
		if got := actionAllowed(tc.typ, tc.action, tc.state); got != tc.want {
			t.Errorf("%s %s from %s: %v, want %v", tc.typ, tc.action, tc.state, got, tc.want)
		}
	}
}

func TestRemoveTimeIsFixedOrRandomUpToTheDelay(t *testing.T) {
	now := time.Now()
	fixed := &Sim{opts: Options{RemoveDelay: 5 * time.Second}}
	if got := fixed.removeTimeFrom(now); !got.Equal(now.Add(5 * time.Second)) {
		t.Errorf("fixed: %v", got.Sub(now))
	}
	random := &Sim{opts: Options{RemoveDelay: -600 * time.Second}}
	for range 1000 {
		if d := random.removeTimeFrom(now).Sub(now); d < 0 || d > 600*time.Second {
			t.Fatalf("random delay %v outside 0-600 s", d)
		}
	}
}

func TestPluralNamesAreCattles(t *testing.T) {
	for id, want := range map[string]string{"container": "containers", "registry": "registries",
		"inServiceUpgradeStrategy": "inServiceUpgradeStrategies", "subscribe": "subscribe", "schema": "schemas",
		"address": "addresses", "key": "keys", "ipAddress": "ipAddresses"} {
		if got := pluralName(id); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
}

func TestLatencyCountsTheObjectsOfAnAnswer(t *testing.T) {
	l := Latency{Fixed: 10 * time.Millisecond, PerObject: time.Millisecond}
	tests := []struct {
		answer any
		want   time.Duration
	}{
		{map[string]any{"type": "collection", "data": []map[string]any{{}, {}, {}}}, 13 * time.Millisecond},
		{map[string]any{"type": "collection", "data": []any{}}, 10 * time.Millisecond},
		{map[string]any{"type": "container"}, 11 * time.Millisecond},
		{map[string]any{"type": "error"}, 10 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := l.of(objectCount(tc.answer)); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.answer, got, tc.want)
		}
	}
}

func TestParseComposeReadsBothFormats(t *testing.T) {
	v1 := "web:\n  image: nginx\n  labels: [a=b, c]\n  environment: [K=V]\n"
	v2 := "version: '2'\nservices:\n  web:\n    image: nginx\n    labels: {a: b, c: ''}\n    environment: {K: V}\n"
	rc := "web:\n  scale: 3\n  upgrade_strategy: {batch_size: 2, interval_millis: 5, start_first: true}\n"
	for _, docker := range []string{v1, v2} {
		got, err := parseCompose(docker, rc)
		if err != nil || len(got) != 1 {
			t.Fatalf("%v %v", got, err)
		}
		sp := got[0].spec
		if sp.Name != "web" || sp.Image != "docker:nginx" || sp.Scale != 3 || sp.Labels["a"] != "b" ||
			sp.Labels["c"] != "" || sp.Environment["K"] != "V" || got[0].strategy.batchSize != 2 ||
			!got[0].strategy.startFirst {
			t.Errorf("%q: %+v", docker, got[0])
		}
	}
}

func TestRetryDelayDoublesUpToItsCap(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := retryDelay(i + 1); got != w {
			t.Errorf("retry %d: %v, want %v", i+1, got, w)
		}
	}
	if got := retryDelay(1000); got != retryMax {
		t.Errorf("retry 1000: %v", got)
	}
}
