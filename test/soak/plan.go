package main

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// kind is a kind of step.
type kind string

// The kinds of steps.
const (
	kindScale   kind = "scale"    // set a service's scale
	kindUpgrade kind = "upgrade"  // in-service upgrade, then finishupgrade (or rollback)
	kindRestart kind = "restart"  // rolling restart
	kindKill    kind = "kill"     // kill -9 of a member (the container, or its VM outside Rancher)
	kindCtlKill kind = "ctl-kill" // SIGKILL of the controller, restart after a while
	kindCtlTerm kind = "ctl-term" // SIGTERM of the controller, restart after a while
	kindAPI5xx  kind = "api-5xx"  // every API request answers 5xx for a while
	kindAPIHang kind = "api-hang" // every API request hangs for a while
	kindWSDrop  kind = "ws-drop"  // the event websockets are dropped
)

// weighted is a kind and its weight in the random choice.
type weighted struct {
	k      kind
	weight int
}

// allKinds lists the kinds with their weights.
func allKinds() []weighted {
	return []weighted{
		{kindScale, 24}, {kindUpgrade, 12}, {kindRestart, 10}, {kindKill, 14},
		{kindCtlKill, 6}, {kindCtlTerm, 6}, {kindAPI5xx, 10}, {kindAPIHang, 10}, {kindWSDrop, 8},
	}
}

// The controller is killed only in the second quarter of the run, so that
// the controller of the last quarter has run for at least a quarter of the
// run when its resources are compared with the first quarter's. Within the
// window, controller kinds weigh ctlWindowBoost times more.
const (
	ctlWindowStart = 0.25
	ctlWindowEnd   = 0.5
	ctlWindowBoost = 3
)

// Bounds of the random parameters.
const (
	minFault, maxFault       = 5 * time.Second, 40 * time.Second // API faults
	minDown, maxDown         = 1 * time.Second, 20 * time.Second // controller downtime
	maxBatch                 = 3
	maxInterval              = 2 * time.Second // between upgrade or restart batches
	coverFirst               = 0.5             // chance to pick a kind not done yet
	innerChanceFault         = 0.7             // chance of a membership change during a fault
	innerChanceCtl           = 0.5             // ... while the controller is down
	rollbackChance           = 0.2
	directKillChance         = 0.5 // exec runtime: kill the VM itself, not through Rancher
	numDraws                 = 19
	maxPause                 = 5 * time.Second // quiet time after a step
	upgradeStartFirstPercent = 50
)

// step is one planned action. inner, when set, is a membership change made
// innerAfter into a fault or a controller downtime.
type step struct {
	n          int
	kind       kind
	service    string
	scale      int // scale: the target
	from       int // scale: the scale before
	batch      int
	interval   time.Duration
	startFirst bool
	rollback   bool
	victim     uint64 // kill: index into the service's members, modulo their number
	direct     bool   // kill: the VM itself (exec runtime)
	fault      time.Duration
	code       int
	pause      time.Duration // after the step converged
	inner      *step
	innerAfter time.Duration
}

func (s step) String() string {
	var d string
	switch s.kind {
	case kindScale:
		d = fmt.Sprintf("%s %d -> %d", s.service, s.from, s.scale)
	case kindUpgrade:
		end := "finishupgrade"
		if s.rollback {
			end = "rollback"
		}
		d = fmt.Sprintf("%s batch %d interval %s startFirst %t, then %s", s.service, s.batch, s.interval, s.startFirst, end)
	case kindRestart:
		d = fmt.Sprintf("%s batch %d interval %s", s.service, s.batch, s.interval)
	case kindKill:
		how := "container (through Rancher)"
		if s.direct {
			how = "VM (outside Rancher)"
		}
		d = fmt.Sprintf("a member of %s: its %s", s.service, how)
	case kindCtlKill, kindCtlTerm:
		d = fmt.Sprintf("down for %s", s.fault)
	case kindAPI5xx:
		d = fmt.Sprintf("status %d for %s", s.code, s.fault)
	case kindAPIHang:
		d = fmt.Sprintf("for %s", s.fault)
	case kindWSDrop:
		d = "now"
	}
	if s.inner != nil {
		d += fmt.Sprintf("; after %s: %s %s", s.innerAfter.Round(100*time.Millisecond), s.inner.kind, s.inner)
	}
	return d
}

// planner chooses the steps. Step i draws a fixed number of values from a
// generator seeded by (seed, i), whatever it chooses, so a seed replays
// the same choices as long as the run takes the same steps.
type planner struct {
	seed     uint64
	services []string
	maxScale int
	exec     bool
	scales   map[string]int
	done     map[kind]int
}

func newPlanner(seed uint64, services []string, scales map[string]int, maxScale int, exec bool) *planner {
	p := &planner{seed: seed, services: services, maxScale: maxScale, exec: exec, scales: map[string]int{}, done: map[kind]int{}}
	for k, v := range scales {
		p.scales[k] = v
	}
	return p
}

// draws are one step's random values in [0, 1).
type draws [numDraws]float64

// next plans step i at frac (elapsed / duration) of the run.
func (p *planner) next(i int, frac float64) step {
	rng := rand.New(rand.NewPCG(p.seed, uint64(i)))
	var d draws
	for j := range d {
		d[j] = rng.Float64()
	}
	k := p.chooseKind(d[0], d[1], frac)
	s := p.build(i, k, d)
	p.done[k]++
	return s
}

// chooseKind picks a kind among those possible now.
func (p *planner) chooseKind(cover, pick, frac float64) kind {
	inWindow := frac >= ctlWindowStart && frac < ctlWindowEnd
	busy := len(p.nonEmpty()) > 0
	var eligible []kind
	var weights []int
	for _, kw := range allKinds() {
		w := kw.weight
		switch kw.k {
		case kindCtlKill, kindCtlTerm:
			if !inWindow {
				continue
			}
			w *= ctlWindowBoost
		case kindUpgrade, kindRestart, kindKill:
			if !busy {
				continue
			}
		}
		eligible = append(eligible, kw.k)
		weights = append(weights, w)
	}
	var fresh []kind
	for _, k := range eligible {
		if p.done[k] == 0 {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) > 0 && cover < coverFirst {
		return fresh[int(pick*float64(len(fresh)))]
	}
	total := 0
	for _, w := range weights {
		total += w
	}
	x := int(pick * float64(total))
	for i, w := range weights {
		if x < w {
			return eligible[i]
		}
		x -= w
	}
	return eligible[len(eligible)-1]
}

// nonEmpty returns the services whose planned scale is at least 1.
func (p *planner) nonEmpty() []string {
	var out []string
	for _, s := range p.services {
		if p.scales[s] > 0 {
			out = append(out, s)
		}
	}
	return out
}

func pickOf[T any](xs []T, f float64) T { return xs[min(int(f*float64(len(xs))), len(xs)-1)] }

func between(lo, hi time.Duration, f float64) time.Duration {
	return (lo + time.Duration(f*float64(hi-lo))).Round(100 * time.Millisecond)
}

// build fills a step of kind k from the draws (d[0] and d[1] chose k).
func (p *planner) build(i int, k kind, d draws) step {
	s := step{n: i, kind: k, pause: between(0, maxPause, d[18])}
	switch k {
	case kindScale:
		p.scaleStep(&s, d[2], d[3])
	case kindUpgrade, kindRestart, kindKill:
		s.service = pickOf(p.nonEmpty(), d[2])
		s.batch = 1 + int(d[4]*maxBatch)
		s.interval = between(0, maxInterval, d[5])
		s.startFirst = d[6]*100 < upgradeStartFirstPercent
		s.rollback = k == kindUpgrade && d[7] < rollbackChance
		s.victim = uint64(d[8] * 1e9)
		s.direct = p.exec && d[9] < directKillChance
	case kindCtlKill, kindCtlTerm:
		s.fault = between(minDown, maxDown, d[10])
		p.innerStep(&s, d, innerChanceCtl)
	case kindAPI5xx, kindAPIHang:
		s.fault = between(minFault, maxFault, d[10])
		s.code = pickOf([]int{500, 502, 503, 504}, d[11])
		if k == kindAPIHang {
			s.code = 0
		}
		p.innerStep(&s, d, innerChanceFault)
	case kindWSDrop:
		p.innerStep(&s, d, 1)
		s.innerAfter = 0
	}
	return s
}

// scaleStep picks a service and a new scale, uniform over the others.
func (p *planner) scaleStep(s *step, fs, fn float64) {
	s.service = pickOf(p.services, fs)
	s.from = p.scales[s.service]
	s.scale = min(int(fn*float64(p.maxScale)), p.maxScale-1)
	if s.scale >= s.from {
		s.scale++
	}
	p.scales[s.service] = s.scale
}

// innerStep adds, with the given chance, a scale or a kill made during the
// fault.
func (p *planner) innerStep(s *step, d draws, chance float64) {
	if d[12] >= chance {
		return
	}
	in := step{n: s.n, kind: kindScale}
	if d[13] < 0.3 && len(p.nonEmpty()) > 0 {
		in.kind = kindKill
		in.service = pickOf(p.nonEmpty(), d[14])
		in.victim = uint64(d[15] * 1e9)
		in.direct = p.exec && d[16] < directKillChance
	} else {
		p.scaleStep(&in, d[14], d[15])
	}
	s.inner = &in
	s.innerAfter = time.Duration(d[17] * 0.8 * float64(s.fault)).Round(100 * time.Millisecond)
}
