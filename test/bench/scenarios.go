package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/drover-mesh/drover/test/harness"
)

// joins runs e.o.joins join-and-leave cycles of a variant: scale n -> n+1
// (a join), then n+1 -> n (Rancher stops the newest container: a clean
// leave).
func (e *env) joins(ctx context.Context, res *results, v variant) error {
	n := e.o.nodes
	e.rt.setEnvHook(v.envHook)
	defer e.rt.setEnvHook(nil)
	api0 := sum(e.sim.Requests())
	joins := cmp.Or(v.joins, e.o.joins)
	progress("%s: %d joins and clean leaves at %d nodes", v.name, joins, n)
	skipped := 0
	for i := 0; i < joins; i++ {
		err := e.joinOnce(ctx, res, v, i, joins)
		if errors.Is(err, errSkip) {
			skipped++
			res.note("%s: join %d skipped: %v", v.name, i+1, err)
			progress("%s: join %d skipped: %v", v.name, i+1, err)
			if err := e.bringUp(ctx, v.stack, n); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	if v.joinKey != "" {
		api := sum(e.sim.Requests()) - api0
		res.set(v.joinKey+"_api_requests_per_cycle", fmt.Sprintf("%.1f", float64(api)/float64(max(joins-skipped, 1))))
	}
	return nil
}

// joinOnce is one cycle. It returns errSkip (wrapped) when the cycle went
// wrong in a way that says nothing about the system under test.
func (e *env) joinOnce(ctx context.Context, res *results, v variant, i, joins int) error {
	before := e.track.snapshot(v.stack)
	old := sortedIPs(members(before))
	mark := e.startChange(v.stack)
	if err := e.sim.Scale(v.stack, serviceName, len(old)+1); err != nil {
		return fmt.Errorf("scaling up: %w", err)
	}
	id, rec, err := e.waitJoiner(ctx, v, before)
	if err != nil {
		return err
	}
	joiner := harness.NodeName(rec.view.IP)
	meshed, ok := e.waitListed(ctx, e.holders(v.stack, append(slices.Clone(old), rec.view.IP), joiner), joiner, meshTimeout)
	if !ok {
		return fmt.Errorf("%w: %s not listed by every member within %s", errSkip, joiner, meshTimeout)
	}
	line := fmt.Sprintf("%s: join %d/%d %s:", v.name, i+1, joins, rec.view.IP)
	if v.joinKey != "" {
		d := meshed.Sub(rec.memberAt)
		res.add(v.joinKey, d)
		line += fmt.Sprintf(" member->meshed %s", d.Round(100*time.Microsecond))
	}
	if v.readyKey != "" {
		if jv, ok := e.obs.view(joiner); ok && !jv.readyAt.IsZero() {
			d := meshed.Sub(jv.readyAt)
			res.add(v.readyKey, d)
			line += fmt.Sprintf(" ready->meshed %s", d.Round(100*time.Microsecond))
		} else {
			line += " (ready instant not seen)"
		}
	}
	if err := e.leaveOnce(ctx, res, v, id, joiner, old, len(old)); err != nil {
		return err
	}
	line += e.endChange(mark, old, []string{rec.view.IP}, 2)
	progress("%s", line)
	return nil
}

// waitJoiner waits for the new container to count: a member (running with
// a member health state), or for byRunning variants running and its VM
// ready.
func (e *env) waitJoiner(ctx context.Context, v variant, before map[string]ctrRecord) (string, ctrRecord, error) {
	var id string
	var rec ctrRecord
	ok := e.track.wait(ctx, v.stack, memberTimeout, func(recs map[string]ctrRecord) bool {
		for cid, r := range recs {
			if _, seen := before[cid]; seen {
				continue
			}
			id, rec = cid, r
			if v.byRunning {
				return !r.runningAt.IsZero()
			}
			return !r.memberAt.IsZero()
		}
		return false
	})
	if !ok {
		return "", rec, fmt.Errorf("%w: no new member within %s", errSkip, memberTimeout)
	}
	if v.byRunning || v.readyKey != "" {
		node := harness.NodeName(rec.view.IP)
		if !e.obs.wait(ctx, memberTimeout, func() bool {
			jv, ok := e.obs.view(node)
			return ok && !jv.readyAt.IsZero()
		}) {
			return "", rec, fmt.Errorf("%w: %s never reported ready", errSkip, node)
		}
	}
	return id, rec, nil
}

// waitListed waits until every node of ips lists node, and returns the
// latest of their nodeup instants.
func (e *env) waitListed(ctx context.Context, ips []string, node string, timeout time.Duration) (time.Time, bool) {
	var at time.Time
	ok := e.obs.wait(ctx, timeout, func() bool {
		at = time.Time{}
		for _, ip := range ips {
			v, ok := e.obs.view(harness.NodeName(ip))
			if !ok || !v.peers[node] {
				return false
			}
			if t := v.upAt[node]; t.After(at) {
				at = t
			}
		}
		return true
	})
	return at, ok
}

// waitDropped waits until no node of ips lists node, and returns the
// latest of their nodedown instants.
func (e *env) waitDropped(ctx context.Context, ips []string, node string, timeout time.Duration) (time.Time, bool) {
	var at time.Time
	ok := e.obs.wait(ctx, timeout, func() bool {
		at = time.Time{}
		for _, ip := range ips {
			v, ok := e.obs.view(harness.NodeName(ip))
			if !ok || v.peers[node] {
				return false
			}
			if t := v.downAt[node]; t.After(at) {
				at = t
			}
		}
		return true
	})
	return at, ok
}

// leaveOnce scales back to n: Rancher stops the newest container (the
// joiner) with SIGTERM; the sample runs from SIGTERM to the last member
// dropping it.
func (e *env) leaveOnce(ctx context.Context, res *results, v variant, id, joiner string, old []string, n int) error {
	if err := e.sim.Scale(v.stack, serviceName, n); err != nil {
		return fmt.Errorf("scaling down: %w", err)
	}
	var sigterm time.Time
	if !e.track.wait(ctx, v.stack, stopTimeout, func(map[string]ctrRecord) bool {
		t, ok := e.rt.stoppedAt(id)
		sigterm = t
		return ok
	}) {
		// The stop is recorded by the runtime, not the tracker: poll it.
		deadline := time.Now().Add(stopTimeout)
		for sigterm.IsZero() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
			sigterm, _ = e.rt.stoppedAt(id)
		}
	}
	if sigterm.IsZero() {
		return fmt.Errorf("%w: the joiner %s was not stopped", errSkip, id)
	}
	dropped, ok := e.waitDropped(ctx, old, joiner, meshTimeout)
	if !ok {
		return fmt.Errorf("%w: %s still listed %s after SIGTERM", errSkip, joiner, meshTimeout)
	}
	res.add(v.leaveKey, dropped.Sub(sigterm))
	if err := e.waitSteady(ctx, v.stack, n); err != nil {
		return err
	}
	e.obs.forget(joiner)
	return nil
}

// silentLoss cuts e.o.losses members off at once (their host-side veth
// down) and measures, for each, the time until no other member lists it.
// Then the hosts are healed and the service is left to recover.
func (e *env) silentLoss(ctx context.Context, res *results, stack, key string) error {
	n := e.o.nodes
	ips := sortedIPs(members(e.track.snapshot(stack)))
	k := min(e.o.losses, len(ips)-2)
	victims, rest := ips[:k], ips[k:]
	progress("%s: cutting %d hosts off at once: %v", stack, k, victims)
	mark := e.startChange(stack)
	cutAt := map[string]time.Time{}
	for _, ip := range victims {
		cutAt[ip] = time.Now()
		if err := e.net.Isolate(ctx, ip, true); err != nil {
			return err
		}
	}
	type result struct {
		ip string
		d  time.Duration
		ok bool
	}
	results := make(chan result, k)
	for _, ip := range victims {
		go func() {
			at, ok := e.waitDropped(ctx, rest, harness.NodeName(ip), silentTimeout)
			results <- result{ip, at.Sub(cutAt[ip]), ok}
		}()
	}
	for range victims {
		r := <-results
		if !r.ok {
			res.note("%s: %s still listed %s after the cut", key, r.ip, silentTimeout)
			progress("%s: %s still listed after %s", stack, r.ip, silentTimeout)
			continue
		}
		res.add(key, r.d)
		progress("%s: %s dropped by every other member %s after the cut", stack, r.ip, r.d.Round(time.Millisecond))
	}
	if line := e.endChange(mark, ips, victims, k); line != "" {
		progress("%s: silent loss:%s", stack, line)
	}
	for _, ip := range victims {
		_ = e.net.Isolate(context.Background(), ip, false) // its namespace may be gone (recreated)
		e.obs.forget(harness.NodeName(ip))
	}
	progress("%s: healed; waiting for %d members again", stack, n)
	return e.waitSteady(ctx, stack, n)
}
