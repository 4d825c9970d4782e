package ranchersim

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// bigSim is a simulator with 2,000 running containers in 100 services.
func bigSim(b *testing.B) *Sim {
	b.Helper()
	s, err := New(Options{StepDelay: time.Millisecond, IPRange: "127.42.0.0/16"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	if _, err := s.CreateStack("big"); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if _, err := s.CreateService("big", ServiceSpec{Name: fmt.Sprintf("svc%d", i), Scale: 20, StartOnCreate: true}); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := s.WaitSettled(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkMetadataReload2000 is one reload (freeze and compare) of 2,000
// containers: the simulator's cost per reload interval while anything
// changes.
func BenchmarkMetadataReload2000(b *testing.B) {
	s := bigSim(b)
	b.ResetTimer()
	for b.Loop() {
		s.meta.reload()
	}
}

// BenchmarkMetadataRender2000 renders the latest answers of 2,000
// containers, once per reload that a request follows.
func BenchmarkMetadataRender2000(b *testing.B) {
	s := bigSim(b)
	s.meta.reload()
	snap, _ := s.meta.current()
	if len(snap.state.containers) != 2000 {
		b.Fatalf("%d containers", len(snap.state.containers))
	}
	b.ResetTimer()
	for b.Loop() {
		_ = buildMetaTree(snap.state, metaLatest, snap.version)
	}
}

func TestMetadataReloadWithoutChangeKeepsVersion(t *testing.T) {
	s, err := New(Options{IPRange: "127.42.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	before, _ := s.meta.current()
	s.meta.reload()
	after, _ := s.meta.current()
	if before.version != after.version || before != after {
		t.Fatalf("a reload with no change: version %s -> %s", before.version, after.version)
	}
	if _, err := s.CreateStack("new"); err != nil {
		t.Fatal(err)
	}
	s.meta.reload()
	if changed, _ := s.meta.current(); changed.version == after.version {
		t.Fatal("a reload with a new stack kept the version")
	}
}
