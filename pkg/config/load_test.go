package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// servicesFile is a valid file with one cluster of n services.
func servicesFile(n int) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: big}\nspec:\n  clusters:\n" +
		"  - name: hello\n    stack: demo\n    admin: {token: {fromEnv: T}}\n    services:\n")
	for i := range n {
		fmt.Fprintf(&b, "    - s%d\n", i)
	}
	return []byte(b.String())
}

// clustersFile is a valid file with n clusters.
func clustersFile(n int) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: big}\nspec:\n  clusters:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: c%d, stack: demo, services: [a, b], admin: {token: {fromEnv: T}}}\n", i)
	}
	return []byte(b.String())
}

// TestLoadGrowsLinearly compares loading 10 times more services (and
// clusters) with loading fewer, in the same test run, so the load on the
// machine cancels out: linear work grows about 10 times, the quadratic
// duplicate checks it replaces grew about 100 times (100k services took
// 10 s).
func TestLoadGrowsLinearly(t *testing.T) {
	for name, tc := range map[string]struct {
		gen func(int) []byte
		n   int
	}{"services": {servicesFile, 5000}, "clusters": {clustersFile, 2000}} {
		t.Run(name, func(t *testing.T) {
			small, large := tc.gen(tc.n), tc.gen(10*tc.n)
			if len(large) > MaxFileBytes {
				t.Fatalf("the large file is %d bytes, over the cap", len(large))
			}
			best := func(data []byte) time.Duration {
				d := time.Duration(1<<63 - 1)
				for range 3 {
					start := time.Now()
					if _, err := Load(data); err != nil {
						t.Fatal(err)
					}
					d = min(d, time.Since(start))
				}
				return d
			}
			ts, tl := best(small), best(large)
			ratio := float64(tl) / float64(ts)
			t.Logf("%s: %d in %v, %d in %v: %.1f times", name, tc.n, ts, 10*tc.n, tl, ratio)
			if ratio > 30 {
				t.Errorf("10 times the input took %.0f times as long: not linear", ratio)
			}
		})
	}
}

func TestLoadRefusesOversizedInputAtOnce(t *testing.T) {
	if _, err := Load(make([]byte, MaxFileBytes+1)); err == nil || !strings.Contains(err.Error(), "over the limit of 2097152") {
		t.Errorf("Load of %d bytes: %v, want the limit", MaxFileBytes+1, err)
	}
	path := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(10 << 30); err != nil { // a sparse 10 GiB file
		t.Fatal(err)
	}
	_ = f.Close()
	for _, p := range []string{path, "/dev/zero"} {
		if _, err := LoadFile(p); err == nil || !strings.Contains(err.Error(), "over the limit") {
			t.Errorf("LoadFile(%s): %v, want the limit", p, err)
		}
	}
}

func TestLoadHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, data := range map[string][]byte{"small": clustersFile(1), "large": clustersFile(15000)} {
		if _, err := LoadContext(ctx, data); !errors.Is(err, context.Canceled) {
			t.Errorf("%s file with a cancelled context: %v, want context.Canceled", name, err)
		}
	}
	// Cancelled while walking: the walkers look at the context every
	// ctxCheckEvery items.
	w := walker{ctx: ctx}
	for range ctxCheckEvery {
		w.step()
	}
	if !errors.Is(w.err(), context.Canceled) {
		t.Errorf("walker after %d steps: %v, want context.Canceled", ctxCheckEvery, w.err())
	}
}

func TestLoadRefusesAliasBombs(t *testing.T) {
	bomb := "apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: x}\na: &a [x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += fmt.Sprintf("%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	start := time.Now()
	_, err := Load([]byte(bomb))
	t.Logf("refused in %v: %v", time.Since(start), err)
	if err == nil {
		t.Fatal("an alias bomb loaded")
	}
}

func TestDuplicateKeysInFlowMappingsAndQuotedForms(t *testing.T) {
	_, err := Load([]byte(`apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata: {name: x, "name": y}
spec:
  clusters:
  - {name: a, stack: s, services: [a], admin: {token: {fromEnv: A, 'fromEnv': B}}}
`))
	for _, want := range []string{"metadata.name: duplicate key", "spec.clusters[0].admin.token.fromEnv: duplicate key"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

func TestReadSecretFileRefusesDevicesAndLargeFiles(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, MaxSecretFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/zero": "not a regular file",
		big:         "over the limit of 65536",
	} {
		_, err := ResolveSecret(SecretRef{FromFile: path}, nil, ReadSecretFile)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ResolveSecret(fromFile: %s) error %v, want %q", path, err, want)
		}
	}
}
