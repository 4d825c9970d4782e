package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/drover-mesh/drover/pkg/reconcile"
)

// maxStatusBytes caps a /status body read by FetchStatus: 2,000 nodes with
// their peer lists stay well below it.
const maxStatusBytes = 256 << 20

// Report is what a running controller's ops server says about it.
type Report struct {
	Status reconcile.Status
	// Ready and Reasons come from /readyz.
	Ready   bool
	Reasons []string
}

// FetchReport reads /status and /readyz of the ops server at base (e.g.
// "http://127.0.0.1:9090").
func FetchReport(ctx context.Context, hc *http.Client, base string) (Report, error) {
	var r Report
	base = strings.TrimRight(base, "/")
	body, code, err := get(ctx, hc, base+PathStatus, maxStatusBytes)
	if err != nil {
		return r, err
	}
	if code != http.StatusOK {
		return r, fmt.Errorf("reading %s: status %d: %s", base+PathStatus, code, firstLine(body))
	}
	if err := json.Unmarshal(body, &r.Status); err != nil {
		return r, fmt.Errorf("decoding %s: %w", base+PathStatus, err)
	}
	body, code, err = get(ctx, hc, base+PathReadyz, 64<<10)
	if err != nil {
		return r, err
	}
	r.Ready = code == http.StatusOK
	if !r.Ready {
		for _, l := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			if l != "" {
				r.Reasons = append(r.Reasons, l)
			}
		}
	}
	return r, nil
}

func get(ctx context.Context, hc *http.Client, url string, limit int64) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", url, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", url, err)
	}
	return body, resp.StatusCode, nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}
