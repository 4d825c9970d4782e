package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"time"
)

// plotRow is one series of the plot.
type plotRow struct {
	series, label string
	baseline      bool
}

// plotRows are the series drawn, drover's above the recipe's.
func plotRows() []plotRow {
	return []plotRow{
		{"join", "JOIN AFTER MEMBER: DROVER", false},
		{"noannounce_join", "  SAME, ANNOUNCEMENTS OFF", false},
		{"baseline_join", "  RECIPE (PUBLISHED IN DNS)", true},
		{"join_ready", "JOIN FROM VM READY: DROVER (RUNNING)", false},
		{"baseline_join_ready", "  RECIPE (RESOLVES AT BOOT)", true},
		{"leave_clean", "CLEAN LEAVE (SIGTERM): DROVER", false},
		{"baseline_leave_clean", "  RECIPE", true},
		{"leave_silent", "SILENT LOSS (HOST CUT OFF): DROVER", false},
		{"baseline_leave_silent", "  RECIPE", true},
	}
}

// Plot geometry: a log time axis from 1 ms to 100 s.
const (
	plotW, plotH   = 1200, 520
	plotLeft       = 470
	plotRight      = 1170
	plotTop        = 60
	rowH           = 44
	plotMinMS      = 1.0
	plotMaxMS      = 100000.0
	plotFontScale  = 2
	plotSmallScale = 1
)

func xOf(d time.Duration) int {
	ms := math.Max(float64(d)/float64(time.Millisecond), plotMinMS)
	ms = math.Min(ms, plotMaxMS)
	f := math.Log10(ms/plotMinMS) / math.Log10(plotMaxMS/plotMinMS)
	return plotLeft + int(f*float64(plotRight-plotLeft))
}

// writePlot draws, per series, the range min..max as a thin line, the
// p50..p90 box and a mark at p99, on a log time axis.
func (r *results) writePlot(path string) error {
	img := image.NewRGBA(image.Rect(0, 0, plotW, plotH))
	fillRect(img, 0, 0, plotW, plotH, color.White)
	font := glyphs()
	black := color.RGBA{0x20, 0x20, 0x20, 0xff}
	grey := color.RGBA{0xd8, 0xd8, 0xd8, 0xff}
	drawText(img, font, 20, 16, plotFontScale,
		"DROVER VS THE PER-NODE DNS RECIPE, 20 HELLO NODES (LOG TIME AXIS)", black)
	rows := plotRows()
	bottom := plotTop + rowH*len(rows)
	for _, tick := range []struct {
		d     time.Duration
		label string
	}{{time.Millisecond, "1MS"}, {10 * time.Millisecond, "10MS"}, {100 * time.Millisecond, "100MS"},
		{time.Second, "1S"}, {10 * time.Second, "10S"}, {100 * time.Second, "100S"}} {
		x := xOf(tick.d)
		fillRect(img, x, plotTop-6, 1, bottom-plotTop+6, grey)
		drawText(img, font, x-len(tick.label)*6, bottom+8, plotFontScale, tick.label, black)
	}
	for i, row := range rows {
		y := plotTop + i*rowH + rowH/2
		drawText(img, font, 12, y-7, plotFontScale, row.label, black)
		r.drawRow(img, font, row, y)
	}
	legendY := bottom + 40
	fillRect(img, 12, legendY, 24, 14, rowColor(false))
	drawText(img, font, 44, legendY, plotFontScale, "DROVER", black)
	fillRect(img, 150, legendY, 24, 14, rowColor(true))
	drawText(img, font, 182, legendY, plotFontScale, "DNS RECIPE", black)
	drawText(img, font, 360, legendY, plotFontScale, "LINE MIN-MAX, BOX P50-P90, BAR P99 (BELOW 1MS DRAWN AT 1MS)", black)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func rowColor(baseline bool) color.RGBA {
	if baseline {
		return color.RGBA{0xe6, 0x7e, 0x22, 0xff}
	}
	return color.RGBA{0x29, 0x6f, 0xc9, 0xff}
}

// drawRow draws one series, or "NO SAMPLES".
func (r *results) drawRow(img *image.RGBA, font map[rune][7]string, row plotRow, y int) {
	s := r.samples(row.series)
	black := color.RGBA{0x20, 0x20, 0x20, 0xff}
	if len(s) == 0 {
		drawText(img, font, plotLeft+8, y-7, plotFontScale, "NO SAMPLES", black)
		return
	}
	c := rowColor(row.baseline)
	lo, hi := xOf(s[0]), xOf(s[len(s)-1])
	fillRect(img, lo, y-1, max(hi-lo, 1), 3, c)
	p50, p90, p99 := xOf(percentile(s, 50)), xOf(percentile(s, 90)), xOf(percentile(s, 99))
	fillRect(img, p50, y-10, max(p90-p50, 3), 21, c)
	fillRect(img, p99-1, y-13, 3, 27, black)
	label := fmt.Sprintf("P50 %s", shortDur(percentile(s, 50)))
	drawText(img, font, min(hi+10, plotRight-len(label)*6), y-16, plotSmallScale, label, black)
}

// shortDur renders a duration for a label (e.g. 12MS, 1.3S).
func shortDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0fMS", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1fS", d.Seconds())
}
