package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Planted secrets: the secret key and the password of the URL's user info.
const (
	plantedSecret   = "S3cr3t-Key-Planted-42"
	plantedPassword = "Pa55-Planted-77"
)

// assertNoSecret fails when out shows a planted secret, in clear or escaped.
func assertNoSecret(t *testing.T, out string) {
	t.Helper()
	for _, s := range []string{plantedSecret, plantedPassword, url.QueryEscape(plantedPassword), "Planted"} {
		if strings.Contains(out, s) {
			t.Fatalf("output shows %q:\n%s", s, out)
		}
	}
}

// TestNoOutputShowsTheSecrets plants the secret key and a URL password in
// the environment and in the arguments and tries every malformed input we
// could think of: neither may appear in anything the command prints.
func TestNoOutputShowsTheSecrets(t *testing.T) {
	good := "../../pkg/config/testdata/minimal.good.yaml"
	withPW := func(u string) string { return strings.Replace(u, "://", "://ak:"+plantedPassword+"@", 1) }
	badURLs := []string{
		withPW("http://h:notaport/v2-beta"),
		withPW("ftp://h/"),
		"ak:" + plantedPassword + "@h:8080",
		"http://ak:Pa55/Planted-77@h",
		"http://ak:Pa55#Planted@h",
		"http://ak:Pa55?Planted@h",
		"http://ak:Pa55%zzPlanted@h",
		"http://ak:Pa55 Planted@h",
		"http://ak:Pa55\x00Planted@h",
		withPW("http://[::1"),
		withPW("http://"),
		withPW("http://h:8080/v2-beta\n"),
		withPW("http://" + strings.Repeat("h", 3000) + ":x"),
	}
	type input struct {
		name string
		args []string
		env  map[string]string
	}
	var inputs []input
	for _, u := range badURLs {
		inputs = append(inputs,
			input{"env " + u, []string{"--config", good}, map[string]string{"CATTLE_URL": u, "CATTLE_ACCESS_KEY": "ak", "CATTLE_SECRET_KEY": plantedSecret}},
			input{"flag " + u, []string{"--config", good, "--rancher-url", u, "--rancher-secret-key", plantedSecret, "--rancher-access-key", "ak"}, nil},
			input{"flag= " + u, []string{"--config", good, "--rancher-url=" + u, "--rancher-secret-key=" + plantedSecret, "--rancher-access-key=ak"}, nil},
		)
	}
	envAll := map[string]string{"CATTLE_URL": withPW("http://127.0.0.1:1"), "CATTLE_ACCESS_KEY": "ak", "CATTLE_SECRET_KEY": plantedSecret}
	inputs = append(inputs,
		input{"secret as a stray argument", []string{"--config", good, "--rancher-access-key", "--rancher-secret-key", plantedSecret}, nil},
		input{"secret after a bad flag", []string{"--once=" + plantedSecret, "--rancher-secret-key", plantedSecret}, nil},
		input{"bad flag before the secret flag", []string{"--nope", "--rancher-secret-key=" + plantedSecret}, nil},
		input{"secret as the value of -v", []string{"-v", plantedSecret, "--rancher-secret-key", plantedSecret}, nil},
		input{"secret as the value of --log-format", []string{"--log-format", plantedSecret}, envAll},
		input{"secret as a command", []string{plantedSecret}, envAll},
		input{"password as a stray argument", []string{"--config", good, withPW("http://h")}, envAll},
		input{"misspelt secret flag", []string{"--rancher-secret=" + plantedSecret}, envAll},
		input{"unreachable Rancher, --once", []string{"--once", "--config", good}, envAll},
		input{"missing access key", []string{"--config", good}, map[string]string{"CATTLE_URL": withPW("http://h"), "CATTLE_SECRET_KEY": plantedSecret}},
		input{"bad CA file", []string{"--once", "--config", good, "--rancher-ca-file", "/nonexistent"}, envAll},
		input{"help", []string{"--help"}, envAll},
	)
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(in.args, env(in.env), &out, &out)
			if in.name != "help" && code == exitOK {
				t.Fatalf("exit 0 for a bad input:\n%s", out.String())
			}
			assertNoSecret(t, out.String())
		})
	}
}

func TestMalformedRancherURLSaysWhatIsWrong(t *testing.T) {
	var out bytes.Buffer
	code := run([]string{"--config", "../../pkg/config/testdata/minimal.good.yaml"},
		env(map[string]string{"CATTLE_URL": "http://ak:" + plantedPassword + "@h:notaport", "CATTLE_ACCESS_KEY": "ak", "CATTLE_SECRET_KEY": plantedSecret}), &out, &out)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2:\n%s", code, out.String())
	}
	for _, want := range []string{"CATTLE_URL", "REDACTED@h:notaport", "invalid port"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output does not say %q:\n%s", want, out.String())
		}
	}
}

// --help prints the defaults of the flags: none may come from the
// environment, where the URL (with user info) and keys live.
func TestHelpShowsNoEnvironmentValue(t *testing.T) {
	var out bytes.Buffer
	vars := env(map[string]string{"CATTLE_URL": "http://ak:" + plantedPassword + "@rancher.example:8080", "CATTLE_ACCESS_KEY": "AKPLANTED9",
		"CATTLE_SECRET_KEY": plantedSecret, "RANCHER_CA_FILE": "/etc/planted-ca.pem"})
	if code := run([]string{"--help"}, vars, &out, &out); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	assertNoSecret(t, out.String())
	for _, s := range []string{"rancher.example", "AKPLANTED9", "planted-ca"} {
		if strings.Contains(out.String(), s) {
			t.Errorf("--help shows %q from the environment", s)
		}
	}
	for _, want := range []string{"-rancher-ca-file", "RANCHER_CA_FILE", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not document %s", want)
		}
	}
}

func TestBadFlagPrintsOneLineAndTheHint(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"--no-such-flag"}, env(nil), &out, &out); code != exitUsage {
		t.Fatalf("exit %d", code)
	}
	if got := out.String(); strings.Count(got, "\n") != 2 || !strings.Contains(got, "flag provided but not defined: -no-such-flag") || !strings.Contains(got, "--help") {
		t.Errorf("output:\n%s", got)
	}
}

func TestRancherCAFileFromFlagOrEnvironment(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, nil, ""},
		{nil, map[string]string{"RANCHER_CA_FILE": "/env/ca.pem"}, "/env/ca.pem"},
		{[]string{"--rancher-ca-file", "/flag/ca.pem"}, map[string]string{"RANCHER_CA_FILE": "/env/ca.pem"}, "/flag/ca.pem"},
	}
	for _, tt := range tests {
		o, err := parseOptions(tt.args, env(tt.env), &bytes.Buffer{})
		if err != nil || o.rancherCAFile != tt.want {
			t.Errorf("parseOptions(%q, %v) = %q, %v; want %q", tt.args, tt.env, o.rancherCAFile, err, tt.want)
		}
	}
}

// writeCA writes the certificate of an httptest TLS server as PEM.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rancher-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRancherTLSConfig(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	big := filepath.Join(dir, "big.pem")
	_ = os.WriteFile(notPEM, []byte("hello, not a certificate\n"), 0o600)
	_ = os.WriteFile(big, bytes.Repeat([]byte("A"), maxCABundleBytes+1), 0o600)
	for _, tt := range []struct {
		name, path, wantErr string
	}{
		{"missing file", filepath.Join(dir, "nope.pem"), "no such file"},
		{"a directory", dir, "not a regular file"},
		{"a device (never read)", "/dev/zero", "not a regular file"},
		{"no PEM certificate", notPEM, "no PEM certificate"},
		{"too large", big, "larger than"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rancherTLS(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "RANCHER_CA_FILE") {
				t.Fatalf("err = %v, want one saying %q and naming RANCHER_CA_FILE", err, tt.wantErr)
			}
		})
	}
	cfg, err := rancherTLS(writeCA(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	leaf := srv.Certificate()
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: cfg.RootCAs, DNSName: "127.0.0.1"}); err != nil {
		t.Fatalf("the bundle's CA is not trusted: %v", err)
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", cfg.MinVersion)
	}
	if cfg, err := rancherTLS(""); cfg != nil || err != nil {
		t.Errorf("no file: %v, %v; want Go's defaults (nil)", cfg, err)
	}
}
