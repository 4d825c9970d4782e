package ranchersim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestControlProcessReportsGoroutinesAndHeap(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/_sim/process", nil)
	req.SetBasicAuth(s.AccessKey(), s.SecretKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st ranchersim.ProcessStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, err %v", resp.StatusCode, err)
	}
	if st.Goroutines < 1 || st.HeapInuseBytes == 0 || st.HeapObjects == 0 {
		t.Fatalf("stats %+v", st)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/_sim/process", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the key: %d, want 401", resp.StatusCode)
	}
}
