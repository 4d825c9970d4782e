package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

// step is one change of the walkthrough.
type step struct {
	title string
	// act makes the change (nil: nothing, just wait).
	act func(ctx context.Context) error
	// want is the number of members afterwards.
	want int
	// happened reports, from the truth, that the change took place (nil:
	// at once); convergence counts only after it.
	happened func([]serviceTruth) bool
}

// run is the whole demo: set up, walk through, hold until Ctrl-C.
func (d *demo) run(ctx context.Context) error {
	if err := d.chooseRuntime(); err != nil {
		return err
	}
	if err := d.setUp(ctx); err != nil {
		return err
	}
	d.printWhere()
	st, svc := d.fixture.Stacks[0].Name, d.fixture.Stacks[0].Services[0]
	ref := harness.ServiceRef{Stack: st, Service: svc.Name}
	var times []string
	for _, s := range d.steps(ref, svc.Scale) {
		d.printf("\n== %s\n", s.title)
		took, err := d.runStep(ctx, ref, s)
		if err != nil {
			return err
		}
		times = append(times, fmt.Sprintf("  %-44s converged in %s", s.title, took.Round(time.Millisecond)))
		if d.real {
			d.checkVMs(ctx, ref)
		}
		if err := sleep(ctx, d.opts.step); err != nil {
			return nil //nolint:nilerr // cancelled (Ctrl-C): the walkthrough ends quietly
		}
	}
	d.printf("\n== summary (from the change to every member seeing exactly the others)\n%s\n", strings.Join(times, "\n"))
	d.printWhere()
	if !d.opts.hold {
		return nil
	}
	d.printf("running until Ctrl-C; the table is reprinted when something changes\n")
	d.hold(ctx)
	return nil
}

func (d *demo) steps(ref harness.ServiceRef, initial int) []step {
	up, down := initial+2, max(initial-1, 1)
	scale := func(n int) func(context.Context) error {
		return func(ctx context.Context) error { return d.sim.Scale(ctx, ref, n) }
	}
	var victim ranchersim.ContainerView
	return []step{
		{title: fmt.Sprintf("start: %d nodes of %s/%s join", initial, ref.Stack, ref.Service), want: initial},
		{title: fmt.Sprintf("scale up %d -> %d", initial, up), act: scale(up), want: up},
		{title: fmt.Sprintf("scale down %d -> %d", up, down), act: scale(down), want: down},
		{title: "node failure: kill -9 of one node", want: down,
			act: func(ctx context.Context) error {
				var err error
				victim, err = d.kill(ctx, ref)
				return err
			},
			happened: func(truth []serviceTruth) bool {
				for _, c := range truth[0].Containers {
					if c.ID == victim.ID && c.StartCount > victim.StartCount {
						return true
					}
				}
				return false
			}},
	}
}

// kill kills the first member: its VM (real nodes) or its Go agent.
func (d *demo) kill(ctx context.Context, ref harness.ServiceRef) (ranchersim.ContainerView, error) {
	views, err := d.sim.Containers(ctx, ref.Stack, ref.Service)
	if err != nil {
		return ranchersim.ContainerView{}, err
	}
	members := harness.Members(views)
	if len(members) == 0 {
		return ranchersim.ContainerView{}, fmt.Errorf("no member to kill")
	}
	v := members[0]
	d.printf("killing %s (%s)\n", nodeName(ref.Service, v.IP), v.Name)
	if d.real {
		_, err = harness.KillVM(ctx, v.IP)
	} else {
		err = d.sim.Kill(ctx, v.ID)
	}
	return v, err
}

// runStep makes the change and shows the table until it converged.
func (d *demo) runStep(ctx context.Context, ref harness.ServiceRef, s step) (time.Duration, error) {
	start := time.Now()
	if s.act != nil {
		if err := s.act(ctx); err != nil {
			return 0, err
		}
	}
	t := newTable(d.out)
	ctx, cancel := context.WithTimeout(ctx, convergeTimeout)
	defer cancel()
	for {
		truth, rows, err := d.snapshot(ctx)
		if err == nil {
			t.show(render(rows), time.Since(start))
			if (s.happened == nil || s.happened(truth)) && converged(rows, ref.Service, s.want) {
				return time.Since(start), nil
			}
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return 0, fmt.Errorf("%s: not converged: %w", s.title, err)
		}
	}
}

// hold reprints the table on every change until ctx is done.
func (d *demo) hold(ctx context.Context) {
	t := newTable(d.out)
	start := time.Now()
	for sleep(ctx, time.Second) == nil {
		if _, rows, err := d.snapshot(ctx); err == nil {
			t.show(render(rows), time.Since(start))
		}
	}
}

// snapshot reads the truth and every live container's view.
func (d *demo) snapshot(ctx context.Context) ([]serviceTruth, []row, error) {
	var truth []serviceTruth
	for _, st := range d.fixture.Stacks {
		for _, s := range st.Services {
			views, err := d.sim.Containers(ctx, st.Name, s.Name)
			if err != nil {
				return nil, nil, err
			}
			truth = append(truth, serviceTruth{Stack: st.Name, Service: s.Name, Containers: views})
		}
	}
	views := map[string]view{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range truth {
		for _, c := range t.Containers {
			if c.State != "running" {
				continue
			}
			wg.Go(func() {
				got, err := harness.StatusView(ctx, c.IP)
				mu.Lock()
				views[c.IP] = view{Connected: got, Err: err}
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return truth, buildRows(truth, views), nil
}

// checkVMs confirms the converged mesh with nodes() inside every VM.
func (d *demo) checkVMs(ctx context.Context, ref harness.ServiceRef) {
	views, err := d.sim.Containers(ctx, ref.Stack, ref.Service)
	if err != nil {
		return
	}
	cookie := harness.DefaultCookie
	for _, st := range d.fixture.Stacks {
		for _, s := range st.Services {
			if c := s.Environment["RELEASE_COOKIE"]; s.Name == ref.Service && c != "" {
				cookie = c
			}
		}
	}
	want := expectedPeers(serviceTruth{Service: ref.Service, Containers: views})
	err = harness.CheckMesh(ctx, want, func(ctx context.Context, ip string) ([]string, error) {
		return harness.VM{Release: d.build.Release, IP: ip, Cookie: cookie}.Nodes(ctx)
	}, 3)
	if err != nil {
		d.printf("nodes() inside the VMs: %v\n", err)
		return
	}
	d.printf("checked: nodes() inside each of the %d VMs (bin/hello rpc) lists exactly the other members\n", len(want))
}

func (d *demo) printWhere() {
	d.printf("\nmesh view:   http://%s/\n", d.opts.ops)
	d.printf("status:      %s status --addr %s\n", relBin(d.root, d.build.Controller), d.ctl.OpsURL)
	d.printf("explain:     %s explain NODE|IP --addr %s\n", relBin(d.root, d.build.Controller), d.ctl.OpsURL)
	d.printf("metrics:     %s/metrics\n", d.ctl.OpsURL)
	d.printf("simulator:   %s (control API under %s/_sim/)\n", d.sim.ProjectURL(), d.sim.URL)
}

func relBin(root, path string) string {
	if rel, ok := strings.CutPrefix(path, root+string(os.PathSeparator)); ok {
		return rel
	}
	return path
}

// sleep waits d or until ctx is done (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
