package harness

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// isNodeVM reports whether pid is the node's VM: a beam process whose
// command line names the node, and not a `bin/hello rpc` VM.
func isNodeVM(pid int, ip string) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(comm)), "beam") {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := string(cmdline)
	return strings.Contains(args, NodeName(ip)) && !strings.Contains(args, "rpc")
}

// NodeVMPIDs returns the PIDs of the Erlang VM (beam.smp) of the node
// in the namespace of ip (one, unless it is being replaced).
func NodeVMPIDs(ctx context.Context, ip string) ([]int, error) {
	out, err := Run(ctx, "", nil, "ip", "netns", "pids", NamespaceName(ip))
	if err != nil {
		return nil, fmt.Errorf("listing the processes of %s: %w", ip, err)
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && isNodeVM(pid, ip) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// KillVM sends SIGKILL to the Erlang VM (beam.smp) in the namespace of ip,
// as a crash of the node would: the container's main process (sim-node.sh)
// then exits and the simulator sees the container die. It returns the
// killed PIDs.
func KillVM(ctx context.Context, ip string) ([]int, error) {
	pids, err := NodeVMPIDs(ctx, ip)
	if err != nil {
		return nil, err
	}
	var killed []int
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			killed = append(killed, pid)
		}
	}
	if len(killed) == 0 {
		return nil, fmt.Errorf("no beam process in the namespace of %s", ip)
	}
	return killed, nil
}
