package main

import (
	"bytes"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestHelpDocumentsEveryFlagAndVariable(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"--help"}, env(nil), &out, &out); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"-config", "-once", "-dry-run", "-log-format", "-v ", "-listen", "-check",
		"-rancher-url", "-rancher-access-key", "-rancher-secret-key", "validate", "status",
		"CATTLE_URL", "CATTLE_ACCESS_KEY", "CATTLE_SECRET_KEY", "RANCHER_URL", "RANCHER_ACCESS_KEY", "RANCHER_SECRET_KEY", "DROVER_CONFIG"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("--help does not mention %q", w)
		}
	}
}

func TestConfigErrorsExitTwoWithEveryProblem(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"--config", "../../pkg/config/testdata/four-problems.bad.yaml"},
		env(map[string]string{"CATTLE_URL": "http://127.0.0.1:1", "CATTLE_ACCESS_KEY": "a", "CATTLE_SECRET_KEY": "topsecret"}), &stdout, &stderr)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
	}
	for _, w := range []string{
		"spec.clusters[0].colour: unknown field",
		"spec.clusters[1].stack: is required",
		"spec.clusters[1].admin.port: must be between 1 and 65535",
		"spec.clusters[1].name: duplicate cluster name",
	} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
		}
	}
	if strings.Contains(stderr.String()+stdout.String(), "topsecret") {
		t.Errorf("secret leaked")
	}
}

func TestValidateMode(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"validate", "--config", "../../pkg/config/testdata/minimal.good.yaml"}, exitOK, "OK (1 clusters)"},
		{[]string{"--check", "--config", "../../pkg/config/testdata/full.good.yaml"}, exitUsage,
			"spec.controller.announce.token.fromFile: reading token file: stat /run/secrets/drover-announce-token: no such file or directory"},
		{[]string{"validate", "--config", "/nonexistent.yaml"}, exitUsage, "reading config"},
		{[]string{"--log-format", "xml"}, exitUsage, "--log-format must be text or json"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"--no-such-flag"}, exitUsage, "flag provided but not defined"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if code := run(tt.args, env(nil), &out, &out); code != tt.code || !strings.Contains(out.String(), tt.out) {
			t.Errorf("run(%q) = %d, %q; want %d, %q", tt.args, code, out.String(), tt.code, tt.out)
		}
	}
}

func TestMissingRancherSettingsNameTheVariables(t *testing.T) {
	var out bytes.Buffer
	code := run([]string{"--config", "../../pkg/config/testdata/minimal.good.yaml"}, env(nil), &out, &out)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2: %s", code, out.String())
	}
	for _, w := range []string{"CATTLE_URL", "CATTLE_ACCESS_KEY", "CATTLE_SECRET_KEY"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %s: %s", w, out.String())
		}
	}
}

func TestRancherVariablesFallBack(t *testing.T) {
	o, err := parseOptions(nil, env(map[string]string{"RANCHER_URL": "http://r:8080", "RANCHER_ACCESS_KEY": "ak", "RANCHER_SECRET_KEY": "sk", "CATTLE_ACCESS_KEY": "cattle"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.rancherURL != "http://r:8080" || o.rancherAccessKey != "cattle" || o.rancherSecretKey.Reveal() != "sk" {
		t.Errorf("got %q %q %q", o.rancherURL, o.rancherAccessKey, o.rancherSecretKey.Reveal())
	}
}
