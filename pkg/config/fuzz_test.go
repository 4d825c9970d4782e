package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds the loader arbitrary files. It must never panic; a file
// it accepts must validate again after a JSON round trip, and carry no
// duplicate of what defaults fill in. Seeds: every testdata and example
// file, plus testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, glob := range []string{"testdata/*.yaml", "../../config/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Load(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		j, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("marshalling an accepted file: %v", err)
		}
		var again File
		if err := json.Unmarshal(j, &again); err != nil {
			t.Fatalf("unmarshalling %s: %v", j, err)
		}
		again.Default()
		if err := again.Validate(); err != nil && !secretsRedacted(cfg) {
			t.Fatalf("an accepted file fails validation after a round trip: %v\n%s", err, j)
		}
	})
}

// secretsRedacted reports whether cfg holds inline secrets, which marshal
// as REDACTED (so a round trip changes them, by design).
func secretsRedacted(cfg *File) bool {
	if cfg.Spec.Controller.Announce.Token.Value != "" {
		return true
	}
	for _, c := range cfg.Spec.Clusters {
		if c.Admin.Token.Value != "" {
			return true
		}
	}
	return false
}
