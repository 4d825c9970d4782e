module github.com/drover-mesh/drover

go 1.26

require (
	github.com/go-logr/logr v1.4.4
	sigs.k8s.io/yaml v1.6.0
)

require (
	github.com/cenkalti/backoff/v4 v4.3.0
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/rancher/go-rancher v0.1.1-0.20220412083059-ff12399dd57b // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
)
