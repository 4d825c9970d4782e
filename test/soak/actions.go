package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/drover-mesh/drover/test/harness"
)

// execute makes a step's action. It returns the instant from which
// convergence is measured (when the action, the fault or the controller's
// downtime ended) and a note on what it did.
func (r *runner) execute(ctx context.Context, s step) (time.Time, string, error) {
	switch s.kind {
	case kindScale, kindUpgrade, kindRestart, kindKill:
		note, err := r.change(ctx, s)
		return time.Now(), note, err
	case kindCtlKill, kindCtlTerm:
		return r.controllerDown(ctx, s)
	case kindAPI5xx, kindAPIHang:
		f := harness.Fault{Kind: "api-status", Code: s.code, Duration: s.fault}
		if s.kind == kindAPIHang {
			f = harness.Fault{Kind: "api-hang", Duration: s.fault}
		}
		if err := r.env.sim.Inject(ctx, f); err != nil {
			return time.Now(), "", fmt.Errorf("injecting %s: %w", f.Kind, err)
		}
		end := time.Now().Add(s.fault)
		note, err := r.during(ctx, s, end)
		if err := sleepUntil(ctx, end); err != nil {
			return time.Now(), note, err
		}
		return time.Now(), note, err
	case kindWSDrop:
		if err := r.env.sim.Inject(ctx, harness.Fault{Kind: "drop-websockets"}); err != nil {
			return time.Now(), "", fmt.Errorf("dropping the websockets: %w", err)
		}
		note, err := r.during(ctx, s, time.Now())
		return time.Now(), note, err
	}
	return time.Now(), "", fmt.Errorf("unknown step kind %q", s.kind)
}

// during makes a step's inner change at innerAfter (if it has one).
func (r *runner) during(ctx context.Context, s step, end time.Time) (string, error) {
	if s.inner == nil {
		return "", nil
	}
	if err := sleepFor(ctx, s.innerAfter); err != nil {
		return "", err
	}
	note, err := r.change(ctx, *s.inner)
	if left := time.Until(end); left < 0 && s.fault > 0 {
		note += fmt.Sprintf("; the change was made %s after the fault ended", secs(-left))
	}
	if err != nil {
		return note, fmt.Errorf("%s during the fault: %w", s.inner.kind, err)
	}
	return note, nil
}

// change makes a membership change through the simulator.
func (r *runner) change(ctx context.Context, s step) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, actionTimeout+r.o.settle)
	defer cancel()
	sim := r.env.sim
	ref := harness.ServiceRef{Stack: stack, Service: s.service}
	switch s.kind {
	case kindScale:
		return "", sim.Scale(ctx, ref, s.scale)
	case kindRestart:
		if err := r.waitState(ctx, ref, "active"); err != nil {
			return "", err
		}
		return "", sim.Restart(ctx, ref, s.batch, s.interval)
	case kindUpgrade:
		if err := r.waitState(ctx, ref, "active"); err != nil {
			return "", err
		}
		if err := sim.Upgrade(ctx, ref, s.batch, s.startFirst, s.interval); err != nil {
			return "", err
		}
		if err := r.waitState(ctx, ref, "upgraded"); err != nil {
			return "", err
		}
		if s.rollback {
			return "", sim.Rollback(ctx, ref)
		}
		return "", sim.FinishUpgrade(ctx, ref)
	case kindKill:
		return r.kill(ctx, s)
	}
	return "", fmt.Errorf("%s is no membership change", s.kind)
}

// kill kills one member of the step's service: its container through the
// simulator (Rancher sees it die and restarts it), or with -runtime exec
// and s.direct its VM with SIGKILL, outside Rancher: peers lose the link
// before Rancher knows, so that incarnation is excused from the peer rule.
func (r *runner) kill(ctx context.Context, s step) (string, error) {
	rd := r.samp.latest()
	if rd == nil {
		return "", fmt.Errorf("no sample yet")
	}
	ms := rd.after.membersOf(s.service)
	if len(ms) == 0 {
		return "no member to kill", nil
	}
	m := ms[s.victim%uint64(len(ms))]
	if !s.direct {
		return m.node, r.env.sim.Kill(ctx, m.id)
	}
	r.doom(m.identity)
	pids, err := harness.KillVM(ctx, m.ip)
	return fmt.Sprintf("%s, pid %v", m.node, pids), err
}

// waitState waits until a service is in state (e.g. upgraded).
func (r *runner) waitState(ctx context.Context, ref harness.ServiceRef, state string) error {
	deadline := time.Now().Add(r.o.settle)
	for {
		got, err := r.env.sim.ServiceState(ctx, ref)
		if err == nil && got == state {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("%s is not %s after %s: %w", ref.Service, state, r.o.settle, err)
			}
			return fmt.Errorf("%s is %q, not %s, after %s", ref.Service, got, state, r.o.settle)
		}
		if err := sleepFor(ctx, pollEvery); err != nil {
			return err
		}
	}
}

// controllerDown stops the controller (SIGKILL or SIGTERM), keeps it down
// for s.fault (making the inner change meanwhile) and starts it again.
func (r *runner) controllerDown(ctx context.Context, s step) (time.Time, string, error) {
	c, err := r.env.takeController()
	if err != nil {
		return time.Now(), "", err
	}
	end := time.Now().Add(s.fault)
	note := ""
	if s.kind == kindCtlKill {
		c.Kill()
	} else {
		took := time.Now()
		clean := c.Stop()
		_, werr := c.Process().Exited()
		switch {
		case !clean:
			r.viol.add(ruleController, "the controller did not exit within 30 s of SIGTERM (killed)")
		case werr != nil:
			r.viol.add(ruleController, "the controller exited with %v after SIGTERM", werr)
		default:
			note = "exited in " + secs(time.Since(took))
		}
	}
	inner, ierr := r.during(ctx, s, end)
	if inner != "" {
		note = joinNote(note, inner)
	}
	if err := sleepUntil(ctx, end); err != nil {
		return time.Now(), note, err
	}
	if err := r.env.startController(ctx); err != nil {
		return time.Now(), note, fmt.Errorf("restarting the controller: %w", err)
	}
	return time.Now(), note, ierr
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// checkController reports a controller that exited by itself and starts a
// new one.
func (r *runner) checkController(ctx context.Context) {
	c := r.env.controller()
	if c == nil {
		return
	}
	if exited, err := c.Process().Exited(); exited {
		r.viol.add(ruleController, "the controller exited by itself (%v); log tail: %s", err, tailString(c.Log(), 1500))
		if _, terr := r.env.takeController(); terr == nil {
			if err := r.env.startController(ctx); err != nil {
				r.viol.add(ruleController, "restarting the controller: %v", err)
			}
		}
	}
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func sleepFor(ctx context.Context, d time.Duration) error {
	return sleepUntil(ctx, time.Now().Add(d))
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func numCPU() int { return runtime.NumCPU() }
