package harness

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Metric returns the sum of every sample of the Prometheus metric name
// (e.g. "drover_pushes_total") whose labels include all of match, read from
// the controller's /metrics. A metric with no sample sums to 0.
func (c *Controller) Metric(ctx context.Context, name string, match map[string]string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.OpsURL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("reading metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("reading metrics: %s", resp.Status)
	}
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		v, ok := sampleValue(sc.Text(), name, match)
		if ok {
			sum += v
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading metrics: %w", err)
	}
	return sum, nil
}

// sampleValue parses one text-format line `name{a="b",...} value` and
// returns its value when it is a sample of name with every label of match.
func sampleValue(line, name string, match map[string]string) (float64, bool) {
	if !strings.HasPrefix(line, name) {
		return 0, false
	}
	rest := line[len(name):]
	labels := ""
	if strings.HasPrefix(rest, "{") {
		end := strings.Index(rest, "}")
		if end < 0 {
			return 0, false
		}
		labels, rest = rest[1:end], rest[end+1:]
	}
	if !strings.HasPrefix(rest, " ") {
		return 0, false // another metric whose name starts with name
	}
	for k, v := range match {
		if !strings.Contains(","+labels+",", ","+k+"="+strconv.Quote(v)+",") {
			return 0, false
		}
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}
