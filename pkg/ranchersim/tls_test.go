package ranchersim_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/internal/testcert"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// testCA writes a CA and a server certificate for 127.0.0.1 into dir and
// returns the server's TLS configuration and the CA file.
func testCA(t *testing.T, dir string) (*tls.Config, string) {
	t.Helper()
	f, err := testcert.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := f.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	return conf, f.CA
}

// runTLSClient is the helper process of TestTLSServesTheAPIAndWebsocket:
// the unmodified go-rancher client, trusting the test CA only through
// SSL_CERT_FILE (the system pool), lists and subscribes over TLS.
func runTLSClient() {
	fail := func(format string, args ...any) {
		fmt.Printf("FAIL "+format+"\n", args...)
		os.Exit(1)
	}
	c, err := client.NewRancherClient(&client.ClientOpts{Url: os.Getenv("SIM_SCHEMAS"),
		AccessKey: os.Getenv("SIM_ACCESS"), SecretKey: os.Getenv("SIM_SECRET"), Timeout: 30 * time.Second})
	if err != nil {
		fail("client: %v", err)
	}
	list, err := c.Container.List(nil)
	if err != nil || len(list.Data) != 1 || !strings.HasPrefix(list.Data[0].Links["self"], "https://") {
		fail("list: %v %v", list, err)
	}
	sc, _ := c.GetSchemas().CheckSchema("subscribe")
	u := strings.Replace(sc.Links["collection"], "http", "ws", 1) + "?eventNames=resource.change"
	if !strings.HasPrefix(u, "wss://") {
		fail("subscribe URL %s", u)
	}
	conn, _, err := c.Websocket(u, nil)
	if err != nil {
		fail("subscribe: %v", err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var ev map[string]any
	if err := conn.ReadJSON(&ev); err != nil || ev["name"] != "ping" {
		fail("first frame %v %v", ev, err)
	}
	fmt.Println("OK")
}

func TestTLSServesTheAPIAndWebsocketToTheUnmodifiedClient(t *testing.T) {
	dir := t.TempDir()
	conf, caFile := testCA(t, dir)
	s := demo(t, ranchersim.Options{TLS: conf}, 1, nil)
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || !strings.HasPrefix(s.MetadataURL(), "http://") {
		t.Fatalf("URL %s, metadata %s", s.URL(), s.MetadataURL())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RANCHERTEST_HELPER=tls-client", "SSL_CERT_FILE="+caFile, "SSL_CERT_DIR="+dir,
		"SIM_SCHEMAS="+s.SchemasURL(), "SIM_ACCESS="+s.AccessKey(), "SIM_SECRET="+s.SecretKey())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("go-rancher over TLS: %v\n%s", err, out)
	}
	// A client that does not trust the CA is refused, and plain HTTP is
	// not spoken on the TLS port.
	if _, err := http.Get(s.SchemasURL()); err == nil {
		t.Error("a client without the CA was served")
	}
	if resp, err := http.Get(strings.Replace(s.SchemasURL(), "https", "http", 1)); err == nil {
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
	}
}

func TestTLSWithoutACertificateIsRefused(t *testing.T) {
	_, stop, err := ranchersim.StartLocal(ranchersim.Options{TLS: &tls.Config{}})
	if err == nil {
		stop()
		t.Fatal("started without a certificate")
	}
	if !strings.Contains(err.Error(), "no certificate") {
		t.Errorf("error %v", err)
	}
}
