//go:build e2e

package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
)

// TestAgentBeforeLeaveRunsBeforePeersDropTheNode runs hello with its
// before_leave hook (HELLO_HANDOFF=true: Hello.Handoff hands the node's
// work to the first peer by name, with the hook's instant). The receiving
// peer records its nodedown instant of the leaver (net_kernel:monitor_nodes).
// For a SIGTERM and for a controller's POST /v1/leave, the hook's instant
// must come before the peer's nodedown.
func TestAgentBeforeLeaveRunsBeforePeersDropTheNode(t *testing.T) {
	requireRoot(t)
	c := newAgentCluster(t, 3, 207, []string{"HELLO_HANDOFF=true"})
	c.push(t, 1, c.nodes, c.nodes)
	c.waitStatus(t, othersOf(c.nodes))
	receiver, left, stopped := c.nodes[0], c.nodes[1], c.nodes[2]

	if took, clean := stopped.stop(t, 10*time.Second); !clean {
		t.Fatalf("%s did not exit within 10 s of SIGTERM", stopped.Name)
	} else {
		t.Logf("SIGTERM with the hook: VM exited after %s", took)
	}
	c.leave(t, left, 2)

	for _, n := range []*helloNode{stopped, left} {
		var handed, down int64
		testwait.EventuallyNil(t, 30*time.Second, func() error {
			var err error
			handed, down, err = handOff(t, receiver, n.Name)
			return err
		})
		if handed >= down {
			t.Errorf("%s: hook at %d µs, peer's nodedown at %d µs: the hook must come first", n.Name, handed, down)
		}
		t.Logf("%s: hook ran %s before %s saw it go", n.Name, time.Duration(down-handed)*time.Microsecond, receiver.Name)
	}
	if !strings.Contains(stopped.log.String(), "handed off") {
		t.Errorf("no hand-off in the stopped node's log:\n%s", stopped.log)
	}
}

// handOff reads receiver's record of the hand-off from node: the hook's
// instant and the receiver's nodedown instant (µs since the epoch).
func handOff(t *testing.T, receiver *helloNode, node string) (int64, int64, error) {
	out, err := receiver.rpc(t, "Hello.Handoff.report()")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != node {
			continue
		}
		handed, err1 := strconv.ParseInt(f[2], 10, 64)
		down, err2 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil || down == 0 {
			return 0, 0, errNotYet(node, out)
		}
		return handed, down, nil
	}
	return 0, 0, errNotYet(node, out)
}

type handOffPending struct{ node, report string }

func (e handOffPending) Error() string {
	return "no complete hand-off from " + e.node + " yet; report: " + strings.TrimSpace(e.report)
}

func errNotYet(node, report string) error { return handOffPending{node, report} }
