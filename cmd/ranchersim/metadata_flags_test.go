package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestMetadataFlagsReachTheSimulatorOptions(t *testing.T) {
	tests := []struct {
		args []string
		want ranchersim.MetadataOptions
	}{
		{nil, ranchersim.MetadataOptions{ReloadInterval: time.Second}},
		{[]string{"--metadata-reload-interval", "250ms", "--xff"}, ranchersim.MetadataOptions{ReloadInterval: 250 * time.Millisecond, XFF: true}},
	}
	for _, tc := range tests {
		o, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		so, err := simOptions(o, slog.New(slog.DiscardHandler))
		if err != nil || so.Metadata != tc.want {
			t.Errorf("%v: %+v %v, want %+v", tc.args, so.Metadata, err, tc.want)
		}
	}
}

func TestMetadataReloadIntervalMustBePositive(t *testing.T) {
	for _, v := range []string{"0s", "-1s", "soon"} {
		var out, errOut bytes.Buffer
		if code := run([]string{"--metadata-reload-interval", v}, &out, &errOut); code != exitUsage ||
			!strings.Contains(errOut.String(), "metadata-reload-interval") {
			t.Errorf("%s: exit %d, stderr %q", v, code, errOut.String())
		}
	}
}

func TestStandaloneMetadataHonoursXForwardedForOnlyWithXFF(t *testing.T) {
	for _, xff := range []bool{false, true} {
		args := []string{"--step-delay", "5ms", "--metadata-reload-interval", "200ms"}
		if xff {
			args = append(args, "--xff")
		}
		s := startSim(t, args...)
		s.settle(t)
		var ip string
		testwait.Eventually(t, 0, "metadata lists a container with a primary IP", func() bool {
			code, body := metadataGet(t, s, "/latest/containers/0/primary_ip", nil)
			ip = body
			return code == http.StatusOK && body != ""
		})
		code, body := metadataGet(t, s, "/latest/self/container/primary_ip", http.Header{"X-Forwarded-For": {ip}})
		if xff && (code != http.StatusOK || body != ip) {
			t.Errorf("--xff: self for %s: %d %q", ip, code, body)
		}
		if !xff && code != http.StatusNotFound {
			t.Errorf("without --xff: self for 127.0.0.1: %d %q, want 404", code, body)
		}
	}
}

func metadataGet(t *testing.T, s *sim, path string, h http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.lines["metadata"]+path, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
