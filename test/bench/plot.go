package main

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// plotRow is one series of the plot.
type plotRow struct {
	series, label string
	baseline      bool
}

// plotRows are the series drawn, top to bottom, drover's above the
// recipe's.
func plotRows() []plotRow {
	return []plotRow{
		{"join", "join after member: drover", false},
		{"noannounce_join", "same, announcements off", false},
		{"baseline_join", "DNS recipe (published in DNS)", true},
		{"join_ready", "join from VM ready: drover (running)", false},
		{"baseline_join_ready", "DNS recipe (resolves at boot)", true},
		{"leave_clean", "clean leave (SIGTERM): drover", false},
		{"baseline_leave_clean", "DNS recipe", true},
		{"leave_silent", "silent loss (host cut off): drover", false},
		{"baseline_leave_silent", "DNS recipe", true},
	}
}

// The time axis, in milliseconds on a log scale. Samples below plotMinMS
// (a joiner listed before it is ready) are drawn at plotMinMS.
const (
	plotMinMS = 1.0
	plotMaxMS = 100000.0
	boxHalf   = 0.28 // half the height of a box, in rows
)

func plotColor(baseline bool) color.RGBA {
	if baseline {
		return color.RGBA{R: 0xe6, G: 0x7e, B: 0x22, A: 0xff}
	}
	return color.RGBA{R: 0x29, G: 0x6f, B: 0xc9, A: 0xff}
}

// msOf returns d in milliseconds, clamped to the axis.
func msOf(d time.Duration) float64 {
	return math.Min(math.Max(float64(d)/float64(time.Millisecond), plotMinMS), plotMaxMS)
}

// timeTicks labels the decades of the time axis.
func timeTicks() plot.ConstantTicks {
	var ticks plot.ConstantTicks
	labels := map[float64]string{1: "1 ms", 10: "10 ms", 100: "100 ms", 1000: "1 s", 10000: "10 s", 100000: "100 s"}
	for decade := plotMinMS; decade <= plotMaxMS; decade *= 10 {
		ticks = append(ticks, plot.Tick{Value: decade, Label: labels[decade]})
		for k := 2.0; k < 10 && decade*k < plotMaxMS; k++ {
			ticks = append(ticks, plot.Tick{Value: decade * k})
		}
	}
	return ticks
}

// writePlot draws, per series, the range min..max as a thin line, the
// p50..p90 box and a bar at p99, on a log time axis, with gonum/plot.
func (r *results) writePlot(path string) error {
	p, err := r.plot()
	if err != nil {
		return err
	}
	return p.Save(13*vg.Inch, 6.5*vg.Inch, path)
}

func (r *results) plot() (*plot.Plot, error) {
	p := plot.New()
	// The key goes into the title: gonum/plot narrows the data area for a
	// long axis label.
	p.Title.Text = "drover vs the per-node DNS recipe, 20 hello nodes\n" +
		"box p50-p90, line min-max, black bar p99 (below 1 ms drawn at 1 ms)"
	p.Title.TextStyle.Font.Size = 15
	p.Title.Padding = 6
	p.X.Label.Text = "time (log scale)"
	p.X.Label.TextStyle.Font.Size = 12
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = timeTicks()
	p.X.Tick.Label.Font.Size = 12
	p.X.Min, p.X.Max = plotMinMS, plotMaxMS
	p.Y.Tick.Label.Font.Size = 12
	p.Add(plotter.NewGrid())

	rows := plotRows()
	names := make([]string, len(rows))
	for i, row := range rows {
		names[len(rows)-1-i] = row.label
	}
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(len(rows))-0.4
	for i, row := range rows {
		if err := r.plotRow(p, row, float64(len(rows)-1-i)); err != nil {
			return nil, fmt.Errorf("series %s: %w", row.series, err)
		}
	}
	for _, b := range []bool{false, true} {
		thumb, err := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			return nil, err
		}
		thumb.Color = plotColor(b)
		thumb.Width = 0
		p.Legend.Add(map[bool]string{false: "drover", true: "DNS recipe (poll every 5 s)"}[b], thumb)
	}
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = 13
	p.Legend.XOffs = -8
	return p, nil
}

// plotRow adds one series at height y, or "no samples".
func (r *results) plotRow(p *plot.Plot, row plotRow, y float64) error {
	s := r.samples(row.series)
	if len(s) == 0 {
		return addLabel(p, 2*plotMinMS, y, "no samples", draw.XLeft)
	}
	c := plotColor(row.baseline)
	lo, hi := msOf(s[0]), msOf(s[len(s)-1])
	line, err := plotter.NewLine(plotter.XYs{{X: lo, Y: y}, {X: hi, Y: y}})
	if err != nil {
		return err
	}
	line.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(2)}
	p50, p90, p99 := msOf(percentile(s, 50)), msOf(percentile(s, 90)), msOf(percentile(s, 99))
	// A box at least 5% of a decade wide, so a tight series stays visible.
	p90 = math.Max(p90, p50*1.12)
	box, err := plotter.NewPolygon(plotter.XYs{{X: p50, Y: y - boxHalf}, {X: p90, Y: y - boxHalf},
		{X: p90, Y: y + boxHalf}, {X: p50, Y: y + boxHalf}})
	if err != nil {
		return err
	}
	box.Color = c
	box.Width = 0
	bar, err := plotter.NewLine(plotter.XYs{{X: p99, Y: y - boxHalf - 0.08}, {X: p99, Y: y + boxHalf + 0.08}})
	if err != nil {
		return err
	}
	bar.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(2.5)}
	p.Add(line, box, bar)
	label := "p50 " + shortDur(percentile(s, 50))
	if hi < plotMaxMS/20 {
		return addLabel(p, hi*1.25, y, label, draw.XLeft)
	}
	return addLabel(p, lo/1.25, y, label, draw.XRight)
}

// addLabel writes text at (x, y), vertically centred.
func addLabel(p *plot.Plot, x, y float64, s string, align text.XAlignment) error {
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: y}}, Labels: []string{s}})
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = 11
		l.TextStyle[i].XAlign = align
		l.TextStyle[i].YAlign = draw.YCenter
	}
	p.Add(l)
	return nil
}

// shortDur renders a duration for a label (e.g. 12 ms, 1.3 s).
func shortDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// rawSampleLine matches a series line of the raw file (results.raw):
// "- `join` (30): 32.0 32.1 ...", in milliseconds.
var rawSampleLine = regexp.MustCompile("^- `([a-z0-9_]+)` \\((\\d+)\\): (.*)$")

// readRawSamples reads the series of a raw results file (raw.md of a run,
// or the "Raw numbers" section pasted into docs/benchmarks.md), so a plot
// can be drawn again without running the benchmark.
func readRawSamples(rd io.Reader) (*results, error) {
	res := newResults()
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	found := 0
	for sc.Scan() {
		m := rawSampleLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		fields := strings.Fields(m[3])
		if want, _ := strconv.Atoi(m[2]); want != len(fields) {
			return nil, fmt.Errorf("series %s: %d samples, the line says %d", m[1], len(fields), want)
		}
		for _, f := range fields {
			ms, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, fmt.Errorf("series %s: sample %q: %w", m[1], f, err)
			}
			res.add(m[1], time.Duration(ms*float64(time.Millisecond)))
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if found == 0 {
		return nil, fmt.Errorf("no raw sample lines (- `series` (n): ms ...)")
	}
	return res, nil
}

// replot draws the plot again from a raw results file.
func replot(rawPath, plotPath string) error {
	f, err := os.Open(rawPath)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := readRawSamples(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", rawPath, err)
	}
	return res.writePlot(plotPath)
}
