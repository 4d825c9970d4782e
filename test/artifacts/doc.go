// Package artifacts holds the tests of what operators deploy besides the
// binaries: the Rancher compose files (config/rancher, config/node), the
// Prometheus alerting rules (config/prometheus) and the Grafana dashboard
// (config/grafana). It has no code of its own.
//
// The tests check what a parser alone cannot: that rancher-compose.yml
// uses only the keys Rancher 1.6 reads (rancher-compose's RancherConfig,
// go-rancher's InstanceHealthCheck and InServiceUpgradeStrategy), that the
// compose secrets are readable by the images' users, and that the rules and
// the dashboard query only metrics the controller exports (gathered from
// pkg/ops' real registry) and cover every drover metric; and that the
// default timeouts of the controller, the Go agent and the BEAM agent nest
// and agree (TestTimeoutsNest reads agent/src/drover_agent.erl).
//
// hack/check-artifacts.sh runs the parsers themselves (docker-compose
// config, promtool check rules and promtool test rules).
package artifacts
