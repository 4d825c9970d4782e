package ranchersim

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// This file reads the docker-compose.yml and rancher-compose.yml of a
// stack (POST /stacks with dockerCompose/rancherCompose, the stack
// upgrade action) as Rancher 1.6's rancher-compose-executor does, for
// what the simulator models: per service the image, labels, environment,
// scale, health check, start_on_create and upgrade strategy. Keys that
// only matter to Docker (ports, volumes, command, ...) are accepted
// without effect; what the simulator cannot stand for (builds, sidekicks,
// load balancers, service aliases, external services) is refused with
// NotSupported; unknown keys are refused, as compose's schema
// validation does.

// maxComposeServices bounds the services of one stack.
const maxComposeServices = 500

// composeService is one service of a stack's compose files.
type composeService struct {
	spec     ServiceSpec
	strategy upgradeParams // rancher-compose upgrade_strategy
}

// dockerOnlyKeys are docker-compose service keys accepted without effect.
var dockerOnlyKeys = stringSet("command", "entrypoint", "ports", "expose", "volumes", "volumes_from",
	"links", "external_links", "network_mode", "net", "restart", "tty", "stdin_open", "dns", "dns_search",
	"dns_opt", "cap_add", "cap_drop", "privileged", "logging", "log_driver", "log_opt", "mem_limit",
	"memswap_limit", "mem_reservation", "mem_swappiness", "cpu_shares", "cpuset", "cpu_quota", "cpu_period",
	"user", "working_dir", "hostname", "domainname", "extra_hosts", "depends_on", "container_name",
	"devices", "security_opt", "ulimits", "pid", "ipc", "read_only", "shm_size", "stop_signal", "tmpfs",
	"networks", "volume_driver", "oom_kill_disable", "group_add", "cgroup_parent", "mac_address",
	"healthcheck", "env_file", "stop_grace_period", "sysctls", "userns_mode", "uts", "isolation")

// rancherOnlyKeys are rancher-compose service keys accepted without effect.
var rancherOnlyKeys = stringSet("retain_ip", "metadata", "drain_timeout_ms", "scale_policy",
	"assign_service_ip_address")

func stringSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// composeServices returns the services map of a compose file: under
// "services" with a version key (format 2 and later), the top level
// otherwise (format 1).
func composeServices(file, text string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	if strings.TrimSpace(text) == "" {
		return out, nil
	}
	var top map[string]any
	if err := yaml.Unmarshal([]byte(text), &top); err != nil {
		return nil, invalidInput("InvalidFormat", file+": "+truncate(err.Error(), 200))
	}
	services := top
	if _, ok := top["version"]; ok {
		for k := range top {
			switch k {
			case "version", "services", "volumes", "networks":
			default:
				return nil, invalidInput("InvalidOption", fmt.Sprintf("%s: unknown top-level key %q", file, truncate(k, 64)))
			}
		}
		services, _ = top["services"].(map[string]any)
	}
	if len(services) > maxComposeServices {
		return nil, invalidInput("MaxLimitExceeded", fmt.Sprintf("%s: more than %d services", file, maxComposeServices))
	}
	for name, v := range services {
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return nil, invalidInput("InvalidFormat", fmt.Sprintf("%s: service %q is not a mapping", file, truncate(name, 64)))
		}
		if !validName(name) {
			return nil, invalidInput("InvalidCharacters", fmt.Sprintf("%s: %q is not a valid service name", file, truncate(name, 64)))
		}
		if m == nil {
			m = map[string]any{}
		}
		out[name] = m
	}
	return out, nil
}

// parseCompose reads both files into service specs, sorted by name.
func parseCompose(dockerCompose, rancherCompose string) ([]composeService, error) {
	docker, err := composeServices("docker-compose.yml", dockerCompose)
	if err != nil {
		return nil, err
	}
	rancher, err := composeServices("rancher-compose.yml", rancherCompose)
	if err != nil {
		return nil, err
	}
	var names []string
	for name := range docker {
		names = append(names, name)
	}
	for name, r := range rancher {
		if _, ok := docker[name]; !ok {
			if _, ext := r["external_ips"]; ext {
				return nil, notSupported("external services (rancher-compose.yml: " + name + ")")
			}
			return nil, invalidInput("InvalidOption", "rancher-compose.yml: service "+name+" is not in docker-compose.yml")
		}
	}
	sort.Strings(names)
	out := make([]composeService, 0, len(names))
	for _, name := range names {
		cs := composeService{spec: ServiceSpec{Name: name, Scale: 1},
			strategy: upgradeParams{batchSize: 1, interval: 2 * millisDuration(1000)}}
		if err := cs.dockerKeys(docker[name]); err != nil {
			return nil, err
		}
		if err := cs.rancherKeys(rancher[name]); err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, nil
}

// dockerKeys applies a docker-compose service.
func (cs *composeService) dockerKeys(m map[string]any) error {
	where := "docker-compose.yml: service " + cs.spec.Name
	for k, v := range m {
		switch {
		case k == "image":
			img, ok := v.(string)
			if !ok || img == "" || containsSpace(img) || len(img) > 500 {
				return invalidInput("InvalidFormat", where+": image must be an image reference")
			}
			if err := refuseSpecialImage(cs.spec.Name, img); err != nil {
				return err
			}
			cs.spec.Image = "docker:" + img
		case k == "labels":
			labels, err := keyValues(where+": labels", v)
			if err != nil {
				return err
			}
			if _, ok := labels["io.rancher.sidekicks"]; ok {
				return notSupported("sidekicks (" + where + ": label io.rancher.sidekicks)")
			}
			cs.spec.Labels = labels
		case k == "environment":
			env, err := keyValues(where+": environment", v)
			if err != nil {
				return err
			}
			cs.spec.Environment = env
		case k == "build" || k == "extends":
			return notSupported(where + ": " + k + " (there is no Docker to build or extend with)")
		case dockerOnlyKeys[k]:
		default:
			return invalidInput("InvalidOption", fmt.Sprintf("%s: unknown key %q", where, truncate(k, 64)))
		}
	}
	if cs.spec.Image == "" {
		return invalidInput("MissingRequired", where+": image is required")
	}
	return nil
}

// refuseSpecialImage refuses the images Rancher turns into other kinds of
// service.
func refuseSpecialImage(name, img string) error {
	repo, _, _ := strings.Cut(img, ":")
	switch repo {
	case "rancher/lb-service-haproxy", "rancher/load-balancer-service":
		return notSupported("load balancer services (" + name + ")")
	case "rancher/dns-service":
		return notSupported("service aliases (" + name + ")")
	case "rancher/external-service":
		return notSupported("external services (" + name + ")")
	}
	return nil
}

// rancherKeys applies a rancher-compose service.
func (cs *composeService) rancherKeys(m map[string]any) error {
	where := "rancher-compose.yml: service " + cs.spec.Name
	for k, v := range m {
		switch {
		case k == "scale":
			n, ok := v.(float64)
			if !ok || n < 0 || n > maxScale || n != float64(int(n)) {
				return invalidInput("InvalidOption", fmt.Sprintf("%s: scale must be an integer from 0 to %d", where, maxScale))
			}
			cs.spec.Scale = int(n)
		case k == "start_on_create":
			b, ok := v.(bool)
			if !ok {
				return invalidInput("InvalidOption", where+": start_on_create must be true or false")
			}
			cs.spec.StartOnCreate = b
		case k == "health_check":
			hc, err := composeHealthCheck(where, v)
			if err != nil {
				return err
			}
			cs.spec.HealthCheck = hc
		case k == "upgrade_strategy":
			st, _ := v.(map[string]any)
			cs.strategy.batchSize = int(number(st, "batch_size"))
			cs.strategy.interval = millisDuration(number(st, "interval_millis"))
			cs.strategy.startFirst = st["start_first"] == true
		case k == "lb_config" || k == "default_cert" || k == "certs":
			return notSupported("load balancer services (" + where + ": " + k + ")")
		case k == "external_ips" || k == "hostname":
			return notSupported("external services (" + where + ": " + k + ")")
		case rancherOnlyKeys[k]:
		default:
			return invalidInput("InvalidOption", fmt.Sprintf("%s: unknown key %q", where, truncate(k, 64)))
		}
	}
	return nil
}

// healthKeys maps rancher-compose health_check keys to the API's.
var healthKeys = map[string]string{
	"port": "port", "request_line": "requestLine", "interval": "interval",
	"response_timeout": "responseTimeout", "healthy_threshold": "healthyThreshold",
	"unhealthy_threshold": "unhealthyThreshold", "initializing_timeout": "initializingTimeout",
	"reinitializing_timeout": "reinitializingTimeout", "strategy": "strategy",
	"recreate_on_quorum_strategy_config": "recreateOnQuorumStrategyConfig",
}

func composeHealthCheck(where string, v any) (*HealthCheck, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidInput("InvalidFormat", where+": health_check must be a mapping")
	}
	api := map[string]any{}
	for k, x := range m {
		name, known := healthKeys[k]
		if !known {
			return nil, invalidInput("InvalidOption", fmt.Sprintf("%s: health_check: unknown key %q", where, truncate(k, 64)))
		}
		api[name] = x
	}
	hc, err := parseHealthCheck(api)
	if err != nil {
		msg := err.Error()
		var ae *apiError
		if errors.As(err, &ae) {
			msg = ae.msg
		}
		return nil, invalidInput("InvalidOption", where+": health_check: "+msg)
	}
	return &hc, nil
}

// keyValues reads labels or environment: a mapping, or a list of
// "key=value" (a bare "key" is an empty value).
func keyValues(where string, v any) (map[string]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return stringMap(x), nil
	case []any:
		out := map[string]string{}
		for _, item := range x {
			s, ok := item.(string)
			if !ok {
				return nil, invalidInput("InvalidFormat", where+": list items must be strings like key=value")
			}
			k, val, _ := strings.Cut(s, "=")
			out[k] = val
		}
		return out, nil
	}
	return nil, invalidInput("InvalidFormat", where+" must be a mapping or a list of key=value")
}

// exportCompose renders a stack's services as Rancher's exportconfig does:
// a docker-compose.yml and a rancher-compose.yml (format 2).
func (s *Sim) exportComposeLocked(st *stack, ids map[string]bool) (string, string) {
	docker := map[string]any{}
	rancher := map[string]any{}
	for _, svc := range s.servicesOfLocked(st) {
		if len(ids) > 0 && !ids[svc.id] {
			continue
		}
		d := map[string]any{"image": strings.TrimPrefix(svc.image, "docker:")}
		if len(svc.labels) > 0 {
			d["labels"] = svc.labels
		}
		if len(svc.env) > 0 {
			d["environment"] = svc.env
		}
		docker[svc.name] = d
		r := map[string]any{"scale": svc.scale, "start_on_create": svc.startOnCreate}
		if hc := svc.health; hc != nil {
			r["health_check"] = map[string]any{"port": hc.Port, "request_line": hc.RequestLine,
				"interval": hc.Interval, "response_timeout": hc.ResponseTimeout,
				"healthy_threshold": hc.HealthyThreshold, "unhealthy_threshold": hc.UnhealthyThreshold,
				"initializing_timeout": hc.InitializingTimeout, "reinitializing_timeout": hc.ReinitializingTimeout,
				"strategy": hc.Strategy}
		}
		rancher[svc.name] = r
	}
	dy, _ := yaml.Marshal(map[string]any{"version": "2", "services": docker})
	ry, _ := yaml.Marshal(map[string]any{"version": "2", "services": rancher})
	return string(dy), string(ry)
}
