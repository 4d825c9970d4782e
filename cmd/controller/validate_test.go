package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
)

// writeConfig writes a one-cluster config whose admin section is admin
// (YAML flow style) and returns its path.
func writeConfig(t *testing.T, admin string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	body := fmt.Sprintf("apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: test}\nspec:\n  clusters:\n"+
		"  - name: hello\n    stack: demo\n    services: [hello]\n    admin: %s\n", admin)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestValidateChecksTheFilesTheConfigNames: validate reads token and TLS
// files as the controller would and reports each problem with its path.
func TestValidateChecksTheFilesTheConfigNames(t *testing.T) {
	pki := nodeapitest.NewPKI(t, "agents")
	cert, key := pki.Issue(t, "controller")
	token := writeFile(t, "token", "s3cret\n")
	empty := writeFile(t, "empty", " \n")
	notPEM := writeFile(t, "ca.pem", "not a certificate")
	tests := []struct {
		name  string
		admin string
		code  int
		out   string
	}{
		{"token file", "{token: {fromFile: " + token + "}}", exitOK, "OK (1 clusters)"},
		{"token file is /dev/zero", "{token: {fromFile: /dev/zero}}", exitUsage,
			"spec.clusters[0].admin.token.fromFile: reading token file: /dev/zero is not a regular file (a character device)"},
		{"token file is a directory", "{token: {fromFile: " + filepath.Dir(token) + "}}", exitUsage, "is not a regular file (a directory)"},
		{"token file is missing", "{token: {fromFile: /nonexistent/token}}", exitUsage, "spec.clusters[0].admin.token.fromFile: reading token file: stat /nonexistent/token: no such file"},
		{"token file is empty", "{token: {fromFile: " + empty + "}}", exitUsage, "is empty"},
		{"https with its files", fmt.Sprintf("{scheme: https, token: {fromEnv: T}, tls: {caFile: %s, serverName: hello.drover.internal, certFile: %s, keyFile: %s}}", pki.CAFile, cert, key), exitOK, "OK"},
		{"https without tls", "{scheme: https, token: {fromEnv: T}}", exitOK, "OK"},
		{"CA file is not PEM", "{scheme: https, token: {fromEnv: T}, tls: {caFile: " + notPEM + "}}", exitUsage,
			"spec.clusters[0].admin.tls: CA bundle " + notPEM + " holds no PEM certificate"},
		{"CA file is missing", "{scheme: https, token: {fromEnv: T}, tls: {caFile: /nonexistent/ca.pem}}", exitUsage, "spec.clusters[0].admin.tls: reading CA bundle"},
		{"key does not match", fmt.Sprintf("{scheme: https, token: {fromEnv: T}, tls: {certFile: %s, keyFile: %s}}", cert, pki.CAFile), exitUsage,
			"spec.clusters[0].admin.tls: certificate " + cert},
		{"duplicate token source", "{token: {fromEnv: A, fromEnv: B}}", exitUsage, "spec.clusters[0].admin.token.fromEnv: duplicate key: set on line 9 column 21 and again on line 9 column 33"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run([]string{"validate", "--config", writeConfig(t, tt.admin)}, env(nil), &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.out) {
				t.Errorf("exit %d, output:\n%s\nwant %d and %q", code, out.String(), tt.code, tt.out)
			}
		})
	}
}

// TestValidateStopsOnSignal: a signal while a large file is checked ends
// validate at once (exit 1), rather than after it finished.
func TestValidateStopsOnSignal(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: big}\nspec:\n  clusters:\n")
	for i := range 15000 {
		fmt.Fprintf(&b, "  - {name: c%d, stack: demo, services: [a], admin: {token: {fromEnv: T}}}\n", i)
	}
	path := writeFile(t, "big.yaml", b.String())
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the signal came
	var out bytes.Buffer
	if code := runContext(ctx, []string{"validate", "--config", path}, env(nil), &out, &out); code != exitRuntime || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("exit %d, output %q; want %d and an interruption", code, out.String(), exitRuntime)
	}
}
