package rancherapi

import (
	"slices"
	"strings"

	client "github.com/rancher/go-rancher/v2"
)

// This file is the member-source logic as pure functions: which of
// Cattle's sources link a container to a service, whether they agree, and
// what a container is for a service. A cache fed by events (issue 15) can
// call them on its own objects.
//
// Cattle links a container to a service in four ways, none of which every
// server renders (rancher-api.md §3.4, §3.5, §9.8):
//
//   - the service's instanceIds, computed from serviceExposeMap rows at
//     render time (absent on older servers and the v1 API);
//   - the container's serviceIds (computed) and serviceId (a column), both
//     missing on containers of Cattle before rancher/cattle#2470 (Rancher
//     1.5) and on the v1 API;
//   - the label io.rancher.stack_service.name, "<stack>/<service>" on a
//     primary container and "<stack>/<service>/<sidekick>" on a sidekick,
//     written when the container is created and never updated: after a
//     stack or service rename it keeps the old names (rancher/rancher#4328,
//     #5042, #11398);
//   - the container's stackId column, which names the stack only.
//
// The ids (instanceIds, serviceIds) are Cattle's own bookkeeping and win
// over the label, which may be stale; the label is used alone only where
// no id source is rendered. Sources that are present must agree, or the
// answer cannot be trusted (see evidence.verdict).

// Labels Cattle puts on every container of a service (DeploymentUnit.getLabels).
const (
	// labelStackService is "<stack>/<service>" for a primary container and
	// "<stack>/<service>/<sidekick>" for a sidekick.
	labelStackService = "io.rancher.stack_service.name"
	// labelStackName is the stack's name.
	labelStackName = "io.rancher.stack.name"
	// labelLaunchConfig names the launch config a container runs:
	// primaryLaunchConfig for the primary, the sidekick's name otherwise.
	labelLaunchConfig   = "io.rancher.service.launch.config"
	primaryLaunchConfig = "io.rancher.service.primary.launch.config"
)

// source is one of the ways Cattle links a container to a service.
type source uint8

const (
	srcInstanceIDs source = 1 << iota // the service's instanceIds
	srcServiceIDs                     // the container's serviceIds or serviceId
	srcLabel                          // the container's stack/service label
	srcStackID                        // the container's stackId (the stack only)
)

// idSources are Cattle's own bookkeeping of service membership.
const idSources = srcInstanceIDs | srcServiceIDs

// String lists the sources, e.g. "instanceIds+label"; "none" when empty.
func (s source) String() string {
	var parts []string
	for _, x := range []struct {
		s    source
		name string
	}{{srcInstanceIDs, "instanceIds"}, {srcServiceIDs, "serviceIds"}, {srcLabel, "label"}, {srcStackID, "stackId"}} {
		if s&x.s != 0 {
			parts = append(parts, x.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// evidence is what each source says about one container and one service.
type evidence struct {
	// present holds the sources the two objects render; agree the present
	// ones that link the container to the service.
	present, agree source
	// sidekick: the container runs a sidekick launch config (of any
	// service, by its labels), so it is never a primary member.
	sidekick bool
	// gone: the container is removed (or being purged).
	gone bool
	// claimed: some other listed service names the container in its
	// instanceIds (a renamed service, or a selector).
	claimed bool
	// live: the container runs or is about to (see mayBePeer); only such
	// a container can be a peer, so only its sources must agree.
	live bool
}

// mayBePeer reports whether a container in this state can be, or is about
// to be, a mesh peer. A container on its way out (stopping, removing,
// stopped, error) is none whatever its sources say, and Cattle drops it
// from serviceExposeMap, so from instanceIds and serviceIds, while its
// label stays: disagreement there is expected, not a reason to distrust.
func mayBePeer(state string) bool {
	switch state {
	case "running", "starting", "restarting", "updating-running", "creating", "requested":
		return true
	}
	return false
}

// gather collects the evidence about container ct and service svc of the
// stack named stack. claimedBy, if not nil, tells which other services
// name a container in their instanceIds.
func gather(ct client.Container, svc client.Service, stack string, claimedBy func(containerID string) []string) evidence {
	e := evidence{gone: isGone(ct.State, ct.Removed), live: mayBePeer(ct.State)}
	if svc.InstanceIds != nil {
		e.present |= srcInstanceIDs
		if slices.Contains(svc.InstanceIds, ct.Id) {
			e.agree |= srcInstanceIDs
		}
	}
	if len(ct.ServiceIds) > 0 || ct.ServiceId != "" {
		e.present |= srcServiceIDs
		if slices.Contains(ct.ServiceIds, svc.Id) || ct.ServiceId == svc.Id {
			e.agree |= srcServiceIDs
		}
	}
	if label := strings.ToLower(labelString(ct.Labels, labelStackService)); label != "" {
		e.present |= srcLabel
		if label == stackServiceKey(stack, svc.Name) {
			e.agree |= srcLabel
		}
		e.sidekick = strings.Count(label, "/") >= 2
	}
	if lc := labelString(ct.Labels, labelLaunchConfig); lc != "" && lc != primaryLaunchConfig {
		e.sidekick = true
	}
	if ct.StackId != "" && svc.StackId != "" {
		e.present |= srcStackID
		if ct.StackId == svc.StackId {
			e.agree |= srcStackID
		}
	}
	if claimedBy != nil {
		for _, id := range claimedBy(ct.Id) {
			if id != svc.Id {
				e.claimed = true
			}
		}
	}
	return e
}

// verdict is what a container is for a service.
type verdict struct {
	// member: the container is a primary container of the service.
	member bool
	// why is a short constant phrase: the source that decided, or why the
	// container is out.
	why string
	// conflict, when not empty, says which present sources disagree: the
	// answer cannot be trusted as it is (a snapshot reads again, then fails).
	conflict string
}

// Reasons of a verdict.
const (
	whyGone        = "removed"
	whySidekick    = "a sidekick, not the primary"
	whyOtherStack  = "its stackId names another stack"
	whyServiceIDs  = "its serviceIds name the service"
	whyNotServices = "its serviceIds name other services"
	whyInstanceIDs = "the service's instanceIds name it"
	whyLabel       = "its stack/service label names the service (no id source rendered)"
	whyNoLink      = "no source links it to the service"
)

// verdict decides, from the evidence alone:
//
//	gone or a sidekick                    -> not a member
//	stackId of another stack              -> not a member
//	serviceIds rendered                   -> they decide
//	else instanceIds name it              -> member
//	else the label names the service      -> member
//	else                                  -> not a member
//
// The decision alone suits a lookup, whose services may be older than the
// container. A snapshot, which read the services just before, also needs
// the sources that are present to agree; conflict says where they do not:
// the two id sources disagree, the ids link a container whose stackId names
// another stack, or a container labelled for the service is missing from
// the ids that are rendered and no other service claims it (a renamed
// service's containers keep their old label and are claimed by it). Only
// a container that may be a peer (mayBePeer) can conflict.
func (e evidence) verdict() verdict {
	if e.gone {
		return verdict{why: whyGone}
	}
	v := e.decide()
	if !e.live {
		return v
	}
	ids := e.present & idSources
	switch agreeIDs := e.agree & idSources; {
	case agreeIDs != 0 && agreeIDs != ids:
		v.conflict = "instanceIds and serviceIds disagree"
	case agreeIDs != 0 && e.present&srcStackID != 0 && e.agree&srcStackID == 0:
		v.conflict = "its ids name the service but its stackId names another stack"
	case agreeIDs == 0 && ids != 0 && e.agree&srcLabel != 0 && !e.sidekick && !e.claimed &&
		(e.present&srcStackID == 0 || e.agree&srcStackID != 0):
		v.conflict = "labelled for the service but missing from its " + ids.String()
	}
	return v
}

// decide is the verdict without the agreement check.
func (e evidence) decide() verdict {
	switch {
	case e.sidekick:
		return verdict{why: whySidekick}
	case e.present&srcStackID != 0 && e.agree&srcStackID == 0:
		return verdict{why: whyOtherStack}
	case e.present&srcServiceIDs != 0:
		if e.agree&srcServiceIDs != 0 {
			return verdict{member: true, why: whyServiceIDs}
		}
		return verdict{why: whyNotServices}
	case e.agree&srcInstanceIDs != 0:
		return verdict{member: true, why: whyInstanceIDs}
	case e.present&srcInstanceIDs == 0 && e.agree&srcLabel != 0:
		return verdict{member: true, why: whyLabel}
	default:
		return verdict{why: whyNoLink}
	}
}

// belongs reports whether container ct is a primary container of service
// svc in stack, by the evidence alone (no agreement check): the lookup's
// rule, whose services may predate the container.
func belongs(ct client.Container, svc client.Service, stack string) bool {
	e := gather(ct, svc, stack, nil)
	if e.present&srcInstanceIDs != 0 && e.agree&srcInstanceIDs == 0 {
		// A service read before the container was created does not name
		// it yet: its instanceIds neither confirm nor deny.
		e.present &^= srcInstanceIDs
	}
	return !e.gone && e.decide().member
}
