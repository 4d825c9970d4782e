package ranchertest

import "net/http"

// MetadataHandler serves rancher-metadata.
func (s *Sim) MetadataHandler() http.Handler { return http.NotFoundHandler() }
