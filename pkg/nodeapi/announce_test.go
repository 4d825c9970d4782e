package nodeapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time         { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration)    { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func newFakeClock() *fakeClock              { return &fakeClock{t: time.Unix(1000, 0)} }
func bearer(r *http.Request, token string)  { r.Header.Set("Authorization", "Bearer "+token) }
func noAuth(*http.Request, string)          {}
func basicAuth(r *http.Request, tok string) { r.Header.Set("Authorization", "Basic "+tok) }

const goodAnnouncement = `{"event":"up","node":"hello@10.42.3.7","ip":"10.42.3.7"}`

func TestAnnounceHandlerRefusals(t *testing.T) {
	h := newAnnounceHandler(AnnounceOptions{Token: "ann-tok", RatePerSecond: 1000, Logger: testr.New(t)}, newFakeClock().now)
	tests := []struct {
		name       string
		method     string
		path       string
		auth       func(*http.Request, string)
		token      string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"accepted", "POST", PathAnnounce, bearer, "ann-tok", goodAnnouncement, 202, ""},
		{"stopping accepted", "POST", PathAnnounce, bearer, "ann-tok", `{"event":"stopping","node":"a@1.2.3.4","ip":"::1"}`, 202, ""},
		{"no token", "POST", PathAnnounce, noAuth, "", goodAnnouncement, 401, CodeUnauthorized},
		{"wrong token", "POST", PathAnnounce, bearer, "ann-tokx", goodAnnouncement, 401, CodeUnauthorized},
		{"basic scheme", "POST", PathAnnounce, basicAuth, "ann-tok", goodAnnouncement, 401, CodeUnauthorized},
		{"other path", "POST", "/v1/peers", bearer, "ann-tok", goodAnnouncement, 404, CodeNotFound},
		{"GET", "GET", PathAnnounce, bearer, "ann-tok", "", 405, CodeMethodNotAllowed},
		{"too large", "POST", PathAnnounce, bearer, "ann-tok", `{"event":"up","x":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, 413, CodeTooLarge},
		{"malformed", "POST", PathAnnounce, bearer, "ann-tok", `{"event":`, 400, CodeBadRequest},
		{"unknown field", "POST", PathAnnounce, bearer, "ann-tok", `{"event":"up","node":"a@1","ip":"1.2.3.4","x":1}`, 400, CodeBadRequest},
		{"unknown event", "POST", PathAnnounce, bearer, "ann-tok", `{"event":"down","node":"a@1","ip":"1.2.3.4"}`, 400, CodeBadRequest},
		{"bad ip", "POST", PathAnnounce, bearer, "ann-tok", `{"event":"up","node":"a@1","ip":"10.42.3"}`, 400, CodeBadRequest},
		{"bad node", "POST", PathAnnounce, bearer, "ann-tok", `{"event":"up","node":"hello","ip":"10.42.3.7"}`, 400, CodeBadNodeName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			tt.auth(r, tt.token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d; body %.200s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantCode != "" && !strings.Contains(w.Body.String(), `"code":"`+tt.wantCode+`"`) {
				t.Errorf("body %.200s, want code %s", w.Body, tt.wantCode)
			}
		})
	}
}

func TestAnnounceHandlerWithoutTokenRefusesAll(t *testing.T) {
	h := AnnounceHandler(AnnounceOptions{})
	r := httptest.NewRequest("POST", PathAnnounce, strings.NewReader(goodAnnouncement))
	r.Header.Set("Authorization", "Bearer ")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("status %d, want 401", w.Code)
	}
}

func TestAnnounceHandlerRateLimit(t *testing.T) {
	clock := newFakeClock()
	h := newAnnounceHandler(AnnounceOptions{Token: "t", RatePerSecond: 2}, clock.now)
	send := func() int {
		r := httptest.NewRequest("POST", PathAnnounce, strings.NewReader(goodAnnouncement))
		bearer(r, "t")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for i, want := range []int{202, 202, 429, 429} {
		if got := send(); got != want {
			t.Errorf("request %d: status %d, want %d", i, got, want)
		}
	}
	clock.add(500 * time.Millisecond) // one token back
	for i, want := range []int{202, 429} {
		if got := send(); got != want {
			t.Errorf("after 0.5s, request %d: status %d, want %d", i, got, want)
		}
	}
	clock.add(time.Hour) // refills to the burst, not beyond
	for i, want := range []int{202, 202, 429} {
		if got := send(); got != want {
			t.Errorf("after an hour, request %d: status %d, want %d", i, got, want)
		}
	}
}

func TestAnnouncerToHandler(t *testing.T) {
	release := make(chan struct{})
	got := make(chan Announcement, 4)
	srv := httptest.NewServer(AnnounceHandler(AnnounceOptions{Token: "ann-tok", OnAnnounce: func(a Announcement) {
		got <- a
		<-release // slow work must not hold the request
	}}))
	defer srv.Close()
	defer close(release)

	if err := NewAnnouncer(srv.URL, "ann-tok", testr.New(t)).Announce(t.Context(), EventUp, "hello@10.42.3.7", "10.42.3.7"); err != nil {
		t.Fatalf("announce: %v", err)
	}
	select {
	case a := <-got:
		if a != (Announcement{Event: EventUp, Node: "hello@10.42.3.7", IP: "10.42.3.7"}) {
			t.Errorf("announcement = %+v", a)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("OnAnnounce not called")
	}
	if err := NewAnnouncer(srv.URL+"/", "ann-tok", testr.New(t)).Announce(t.Context(), EventStopping, "hello@10.42.3.7", "10.42.3.7"); err != nil {
		t.Errorf("second announce while the first is still being handled: %v", err)
	}

	err := NewAnnouncer(srv.URL, "wrong-secret", testr.New(t)).Announce(t.Context(), EventUp, "hello@10.42.3.7", "10.42.3.7")
	if !IsUnauthorized(err) || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("wrong token: err %v, want unauthorized without the token", err)
	}
}

func TestAnnouncerUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := NewAnnouncer(url, "tok", testr.New(t)).Announce(context.Background(), EventUp, "a@127.0.0.1", "127.0.0.1")
	if err == nil || strings.Contains(err.Error(), "tok@") {
		t.Errorf("unreachable controller: err %v, want an error", err)
	}
	if err := NewAnnouncer("", "tok", testr.New(t)).Announce(t.Context(), EventUp, "a@127.0.0.1", "127.0.0.1"); err != nil {
		t.Errorf("disabled announcer: %v", err)
	}
}
