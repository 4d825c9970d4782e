package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// metadataFlags are rancher-metadata's own flags, as network-services
// passes them: -reload-interval-limit and --xff.
type metadataFlags struct {
	reloadInterval time.Duration
	xff            bool
}

func (m *metadataFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&m.reloadInterval, "metadata-reload-interval", ranchersim.DefaultMetadataReloadInterval,
		"rancher-metadata's -reload-interval-limit: metadata and DNS answers change at most once per interval")
	fs.BoolVar(&m.xff, "xff", false, "rancher-metadata --xff: honour X-Forwarded-For to choose \"self\"")
}

func (m *metadataFlags) validate() error {
	if m.reloadInterval <= 0 {
		return fmt.Errorf("--metadata-reload-interval: %v is not a positive duration like 1s or 250ms", m.reloadInterval)
	}
	return nil
}

func (m *metadataFlags) options() ranchersim.MetadataOptions {
	return ranchersim.MetadataOptions{ReloadInterval: m.reloadInterval, XFF: m.xff}
}
