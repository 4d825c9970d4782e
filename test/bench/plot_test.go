package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRawSamplesReadBackWhatRawWrites(t *testing.T) {
	r := newResults()
	for _, ms := range []float64{32.0, 41.5, 49.4} {
		r.add("join", time.Duration(ms*float64(time.Millisecond)))
	}
	r.add("leave_silent", 8601300*time.Microsecond)
	r.add("join_ready", -200*time.Microsecond)
	got, err := readRawSamples(strings.NewReader(r.raw()))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"join", "leave_silent", "join_ready"} {
		want, have := r.samples(s), got.samples(s)
		if len(want) != len(have) {
			t.Fatalf("%s: %d samples read back, want %d", s, len(have), len(want))
		}
		for i := range want {
			if d := want[i] - have[i]; d > 50*time.Microsecond || d < -50*time.Microsecond {
				t.Errorf("%s[%d] = %v, want %v", s, i, have[i], want[i])
			}
		}
	}
}

func TestRawSamplesRefuseBrokenLines(t *testing.T) {
	for _, c := range []struct{ name, raw, want string }{
		{"count differs from the samples", "- `join` (3): 1.0 2.0\n", "2 samples, the line says 3"},
		{"sample is not a number", "- `join` (2): 1.0 fast\n", `sample "fast"`},
		{"no sample lines at all", "# figures\njoin_p50_ms=40\n", "no raw sample lines"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readRawSamples(strings.NewReader(c.raw))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestPlotIsAPNGWithBothSystemsDrawn(t *testing.T) {
	r := newResults()
	for i := range 30 {
		r.add("join", time.Duration(30+i)*time.Millisecond)
		r.add("baseline_join", time.Duration(250+40*i)*time.Millisecond)
	}
	r.add("leave_silent", 8600*time.Millisecond)
	path := filepath.Join(t.TempDir(), "plot.png")
	if err := r.writePlot(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 500 {
		t.Errorf("plot is %dx%d, too small to read", b.Dx(), b.Dy())
	}
	// Each system's colour appears (its boxes), and so does text (black).
	seen := map[string]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			for name, c := range map[string][3]uint32{"drover": {0x29, 0x6f, 0xc9}, "recipe": {0xe6, 0x7e, 0x22}, "black": {0, 0, 0}} {
				if cr>>8 == c[0] && cg>>8 == c[1] && cb>>8 == c[2] {
					seen[name] = true
				}
			}
		}
	}
	for _, name := range []string{"drover", "recipe", "black"} {
		if !seen[name] {
			t.Errorf("no %s pixels in the plot", name)
		}
	}
}
