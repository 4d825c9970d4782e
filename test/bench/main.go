// Command bench measures drover side by side with the per-node DNS recipe
// (issue 8): join, leave and silent loss with real hello nodes in network
// namespaces against the simulator in Cattle-like event mode, the load on
// Rancher, and the controller's cost at 2,000 Go agents in 100 clusters
// and at 10,000 in 500.
// It prints progress while it runs and ends with one name=value line per
// figure. It is not a test: nothing checks a threshold.
//
//	go run ./test/bench            (as root; make bench)
//	go run ./test/bench -beam=false  (scale part only, no root needed)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
)

// options are the command's flags.
type options struct {
	beam, scale    bool
	nodes, joins   int
	losses         int
	loadWindow     time.Duration
	scaleClusters  int
	scaleLarge     int
	scaleSize      int
	passWindow     time.Duration
	rawPath, plot  string
	workDir        string
	skipNoAnnounce bool
	healthInterval time.Duration
	recipe         bool
	replot         string
	apiLatency     time.Duration // the real-node part's simulator
	beamLatency    time.Duration // the real-node part's joins at a Cattle-like latency
	latencyJoins   int
	cycles         int
	cycleLatency   time.Duration
	sizes          []int  // -sizes: the real-node part at each size, side by side
	topology       string // the drover cluster's topology (config's topology)
	degree         int    // its degree when bounded
}

// bounded reports whether the drover cluster runs a bounded topology.
func (o options) bounded() bool { return o.topology == config.TopologyBoundedDegree }

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.BoolVar(&o.beam, "beam", true, "run the real-node part (root, Erlang, network namespaces)")
	fs.BoolVar(&o.scale, "scale", true, "run the scale part (Go agents, 127.42.0.0/16)")
	fs.IntVar(&o.nodes, "nodes", 20, "members of the measured cluster")
	fs.IntVar(&o.joins, "joins", 30, "joins (and clean leaves) per system and variant")
	fs.IntVar(&o.losses, "losses", 3, "hosts cut off at once in the silent-loss scenario")
	fs.DurationVar(&o.loadWindow, "load-window", 2*time.Minute, "steady-state window in which Rancher requests are counted")
	fs.IntVar(&o.scaleClusters, "scale-clusters", 100, "clusters of the scale part")
	fs.IntVar(&o.scaleSize, "scale-size", 20, "Go agents per cluster in the scale part")
	fs.IntVar(&o.scaleLarge, "scale-large-clusters", 500, "clusters of the scale part's second run (500: 10,000 Go agents); 0 skips it")
	fs.DurationVar(&o.passWindow, "pass-window", 30*time.Second, "window in which the controller's CPU per pass is measured")
	fs.StringVar(&o.rawPath, "raw", "", "write every sample and figure to this file (markdown; default raw.md in the work directory)")
	fs.StringVar(&o.plot, "plot", "", "write the plot (PNG) to this file")
	fs.StringVar(&o.workDir, "work", "", "directory for binaries, configs and logs (default: a new temp dir, kept)")
	fs.DurationVar(&o.healthInterval, "health-interval", 2*time.Second, "the services' health check interval (Rancher's default 2s; healthy after 2 passes, unhealthy after 3 failures)")
	fs.BoolVar(&o.recipe, "recipe", true, "run the DNS recipe's side of the real-node part")
	fs.BoolVar(&o.skipNoAnnounce, "skip-no-announce", false, "skip the drover run with announcements off")
	fs.DurationVar(&o.apiLatency, "api-latency", 0, "delay every API answer of the real-node part's simulator by this much, as a loaded Cattle does (e.g. 50ms)")
	fs.DurationVar(&o.beamLatency, "beam-latency", 50*time.Millisecond, "the real-node part also runs -latency-joins drover joins with every API answer delayed by this much (a Cattle-like latency); 0 skips them")
	fs.IntVar(&o.latencyJoins, "latency-joins", 10, "joins (and clean leaves) at -beam-latency")
	fs.IntVar(&o.cycles, "cycles", 20, "join-and-leave cycles of the scale part's Go-agent cluster (-nodes agents, health checks, announcements) at each API latency; 0 skips them")
	fs.DurationVar(&o.cycleLatency, "cycle-latency", 50*time.Millisecond, "the scale part's cycles run at zero API latency and at this one; 0 runs only the first")
	sizes := fs.String("sizes", "", "run the real-node part at each of these sizes (e.g. 20,60,100: drover only, side by side); overrides -nodes")
	fs.StringVar(&o.topology, "topology", config.TopologyFullMesh, "the drover cluster's topology: fullMesh or boundedDegree (nodes then run with -connect_all false)")
	fs.IntVar(&o.degree, "degree", 6, "the degree of a boundedDegree topology")
	fs.StringVar(&o.replot, "replot", "", "only draw -plot again from this raw results file (raw.md, or docs/benchmarks.md's raw numbers)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.sizes, err = parseSizes(*sizes); err != nil {
		return o, err
	}
	if o.topology != config.TopologyFullMesh && o.topology != config.TopologyBoundedDegree {
		return o, fmt.Errorf("-topology %q: want %s or %s", o.topology, config.TopologyFullMesh, config.TopologyBoundedDegree)
	}
	if o.bounded() && (o.degree < 2 || o.degree > 64) {
		return o, fmt.Errorf("-degree %d: want 2 to 64", o.degree)
	}
	if o.replot != "" && o.plot == "" {
		return o, errors.New("-replot needs -plot FILE")
	}
	if o.apiLatency < 0 || o.cycleLatency < 0 || o.cycles < 0 || o.beamLatency < 0 || o.latencyJoins < 0 {
		return o, errors.New("-api-latency, -cycle-latency, -cycles, -beam-latency and -latency-joins must not be negative")
	}
	if o.nodes < 3 || o.joins < 1 || o.losses < 1 {
		return o, errors.New("-nodes must be at least 3, -joins and -losses at least 1")
	}
	return o, nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	o, err := parseOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 2
	}
	if o.replot != "" {
		if err := replot(o.replot, o.plot); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		return 0
	}
	if o.workDir == "" {
		if o.workDir, err = os.MkdirTemp("", "drover-bench-"); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := newResults()
	started := time.Now()
	if o.rawPath == "" {
		o.rawPath = filepath.Join(o.workDir, "raw.md")
	}
	progress("work directory %s (logs of every process)", o.workDir)
	err = runParts(ctx, o, res)
	progress("finished in %s", time.Since(started).Round(time.Second))
	if len(o.sizes) == 0 {
		res.finalize(o) // with -sizes, each size is finalized on its own
		compareTargets(o, res)
	}
	if werr := res.write(o); werr != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", werr)
	}
	res.printFigures(os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// runParts runs the scale part then the real-node part; each cleans up
// after itself before returning, even when ctx is cancelled.
func runParts(ctx context.Context, o options, res *results) error {
	var errs []error
	if o.scale {
		if err := runScale(ctx, o, res); err != nil {
			errs = append(errs, fmt.Errorf("scale part: %w", err))
		}
	}
	if o.beam && ctx.Err() == nil && len(o.sizes) > 0 {
		if err := runSizes(ctx, o, res); err != nil {
			errs = append(errs, fmt.Errorf("real-node part: %w", err))
		}
	} else if o.beam && ctx.Err() == nil {
		if err := runBEAM(ctx, o, res); err != nil {
			errs = append(errs, fmt.Errorf("real-node part: %w", err))
		}
	}
	return errors.Join(errs...)
}

// maxSize bounds -sizes: every node is a VM of about 34 MB and a
// namespace; the address range holds 4,094 hosts.
const maxSize = 400

// parseSizes parses -sizes ("20,60,100"): ascending, each 3 to maxSize.
func parseSizes(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 3 || n > maxSize {
			return nil, fmt.Errorf("-sizes %q: %q is not a size from 3 to %d", s, f, maxSize)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("-sizes %q: sizes must be ascending", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// progress prints one line of progress to stderr with the time.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
