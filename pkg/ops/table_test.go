package ops

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	r := Report{Status: sampleStatus(), Reasons: []string{"rancher event stream down"}}
	if err := WriteTable(&b, r, fixedNow()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	want := []string{
		"controller: NOT READY: rancher event stream down\n",
		"passes: 12, last pass ok in 3ms 2s ago, last observed 2s ago\n",
		"cluster hello (topology fullMesh, policy sync): 3 members, 5 nodes\n",
		"  Ready=False  Converged=False  Stale=False  Degraded=False\n",
		"  Converged: NodesPending: 2 of 5 nodes not converged\n",
		"  Ready: NodesPending\n",
		"  NODE              STATE              PEERS         LAST PUSH            LEAVING    READY\n",
		"  hello@127.42.0.2  running/healthy    1/2 +1 extra  set-peers ok 3s ago  no         Pending\n",
		"  hello@127.42.0.3  running/healthy    2/2           -                    no         yes\n",
		"  hello@127.42.0.5  stopping/healthy   0/0 +1 extra  leave ok 1s ago      yes        Pending\n",
		"  hello@127.42.0.6  running/unhealthy  ?/0           -                    departing  yes\n",
		"cluster other (topology fullMesh, policy sync): 1 members, 1 nodes\n",
	}
	if missing := containsAll(out, want...); len(missing) > 0 {
		t.Errorf("the table lacks %q; got:\n%s", missing, out)
	}
}

func TestFetchReportFromARunningServer(t *testing.T) {
	base := startServer(t, Options{Status: sampleStatus, Ready: func() (bool, []string) { return false, []string{"a", "b"} }})
	hc := &http.Client{Timeout: 30 * time.Second}
	r, err := FetchReport(context.Background(), hc, base+"/")
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready || strings.Join(r.Reasons, ",") != "a,b" || r.Status.Passes != 12 || len(r.Status.Clusters) != 2 {
		t.Errorf("FetchReport = ready %v, reasons %q, %d passes, %d clusters", r.Ready, r.Reasons, r.Status.Passes, len(r.Status.Clusters))
	}
}
