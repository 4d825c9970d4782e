package rancherapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	client "github.com/rancher/go-rancher/v2"
)

func TestParseAPIURL(t *testing.T) {
	tests := []struct {
		in          string
		root, proj  string
		schemas     string
		wantErr     bool
		user, passw string
	}{
		{in: "http://h:8080", root: "http://h:8080/v2-beta", schemas: "http://h:8080/v2-beta/schemas"},
		{in: "http://h:8080/", root: "http://h:8080/v2-beta", schemas: "http://h:8080/v2-beta/schemas"},
		{in: "http://h:8080/v1", root: "http://h:8080/v2-beta"},
		{in: "http://h:8080/v2-beta/", root: "http://h:8080/v2-beta"},
		{in: "http://h:8080/v2-beta/schemas", root: "http://h:8080/v2-beta"},
		{in: "https://h/v2-beta/projects/1a5", root: "https://h/v2-beta", proj: "1a5", schemas: "https://h/v2-beta/projects/1a5/schemas"},
		{in: "http://h:8080/v2-beta/projects/1a5/schemas", root: "http://h:8080/v2-beta", proj: "1a5"},
		{in: "http://h:8080/v1/projects/1a7/", root: "http://h:8080/v2-beta", proj: "1a7"},
		{in: "http://h:8080/v2-beta/projects/1a5/services?x=1", root: "http://h:8080/v2-beta", proj: "1a5"},
		{in: "http://h:8080/env/1a5/apps/stacks", root: "http://h:8080/v2-beta", proj: "1a5"},
		{in: "http://h/rancher/v2-beta/projects/1a5", root: "http://h/rancher/v2-beta", proj: "1a5"},
		{in: "  http://ak:sk@h:8080/v2-beta  ", root: "http://h:8080/v2-beta", user: "ak", passw: "sk"},
		{in: "h:8080", wantErr: true},
		{in: "ftp://h/v2-beta", wantErr: true},
		{in: "http:///v2-beta", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := parseAPIURL(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if u.Root != tt.root || u.Project != tt.proj || u.User != tt.user || u.Password != tt.passw {
				t.Fatalf("got %+v", u)
			}
			if tt.schemas != "" && u.SchemasURL() != tt.schemas {
				t.Fatalf("schemas = %s, want %s", u.SchemasURL(), tt.schemas)
			}
		})
	}
}

func TestParseAPIURLErrorHidesPassword(t *testing.T) {
	_, err := parseAPIURL("ftp://ak:hunter22@h/")
	if err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Fatalf("err = %v", err)
	}
}

func TestWSURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://h:8080/v2-beta/projects/1a5/subscribe": "ws://h:8080/v2-beta/projects/1a5/subscribe?eventNames=resource.change",
		"https://h/v2-beta/subscribe":                  "wss://h/v2-beta/subscribe?eventNames=resource.change",
	} {
		got, err := wsURL(in)
		if err != nil || got != want {
			t.Errorf("wsURL(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := wsURL("gopher://h/x"); err == nil {
		t.Error("want an error for an odd scheme")
	}
}

func TestClassify(t *testing.T) {
	apiErr := func(code int) error {
		return &client.ApiError{StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code))}
	}
	tests := []struct {
		name       string
		err        error
		terminal   bool
		transient  bool
		mentioning []string
	}{
		{"401", apiErr(401), true, false, []string{"CATTLE_ACCESS_KEY", "CATTLE_SECRET_KEY", "RANCHER_ACCESS_KEY", "CATTLE_URL", "http://h/x"}},
		{"403", apiErr(403), true, false, []string{"permission", "CATTLE_ACCESS_KEY"}},
		{"404", apiErr(404), true, false, []string{"CATTLE_URL", "/v2-beta/projects/"}},
		{"500", apiErr(500), false, true, []string{"500", "http://h/x"}},
		{"503", apiErr(503), false, true, nil},
		{"connection refused", &netOpError{}, false, true, []string{"cannot reach"}},
		{"timeout", timeoutError{}, false, true, []string{"did not answer in time"}},
		{"garbage", errors.New("Failed to parse: <html>"), false, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("listing things", "http://h/x", tt.err)
			if IsTerminal(err) != tt.terminal || IsTransient(err) != tt.transient {
				t.Fatalf("terminal=%v transient=%v for %v", IsTerminal(err), IsTransient(err), err)
			}
			for _, m := range tt.mentioning {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%q does not mention %q", err, m)
				}
			}
			if !strings.HasPrefix(err.Error(), "listing things: ") {
				t.Errorf("%q lacks its context", err)
			}
			// Classification survives further wrapping.
			wrapped := fmt.Errorf("pass 3: %w", err)
			if IsTerminal(wrapped) != tt.terminal || IsTransient(wrapped) != tt.transient {
				t.Errorf("classification lost when wrapped")
			}
		})
	}
}

func TestScrub(t *testing.T) {
	err := scrub(transient(errors.New("server said secretvalue")), "secretvalue")
	if strings.Contains(err.Error(), "secretvalue") || !IsTransient(err) {
		t.Fatalf("err = %v", err)
	}
}

type netOpError struct{}

func (netOpError) Error() string { return "dial tcp 127.0.0.1:1: connect: connection refused" }

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
