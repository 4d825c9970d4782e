package ranchersim

import (
	"net/url"
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
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
