package ranchersim

// This file holds Cattle's process definitions as data
// (code/packaging/app-config/.../process/spring-process-context.xml and
// the defaults it expands): for each resource action backed by a process,
// the states it may start from. AbstractObjectResourceManager.addActions
// advertises such an action only in those states; scheduling it from any
// other state cancels the process ("State [x] is not valid"), which the
// API answers 409 Conflict (AbstractObjectResourceManager.scheduleProcess).
// Actions without a process (action handlers: logs, execute,
// activateservices, ...) follow handlerStates.

// states is a set of states.
type states map[string]bool

func stateSet(names ...string) states {
	s := states{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

// instanceProcesses: <process:defaultProcesses resourceType="instance">
// with its renames (registering=creating, inactive=stopped,
// activating=starting, active=running, deactivating=stopping,
// updating-*=updating-running/stopped), plus the explicit instance.*
// processes.
var instanceProcesses = map[string]states{
	"start":   stateSet("stopped", "creating"),
	"stop":    stateSet("creating", "running", "starting", "restarting", "updating-running", "updating-stopped"),
	"restart": stateSet("running"),
	"remove":  stateSet("requested", "creating", "updating-running", "updating-stopped", "stopped", "erroring", "error"),
	"purge":   stateSet("removed"),
	"restore": stateSet("removed"),
	"update":  stateSet("stopped", "running"),
	"migrate": stateSet("running"),
}

// serviceProcesses: the service.* processes.
var serviceProcesses = map[string]states{
	"activate": stateSet("inactive", "restarting"),
	"update": stateSet("inactive", "active", "updating-active", "finishing-upgrade", "activating",
		"canceling-upgrade", "upgrading", "rolling-back"),
	"deactivate": stateSet("restarting", "active", "activating", "updating-inactive", "updating-active"),
	"remove": stateSet("inactive", "registering", "active", "activating", "updating-inactive", "updating-active",
		"upgrading", "canceling-upgrade", "rolling-back", "deactivating", "requested", "canceled-upgrade",
		"upgraded", "finishing-upgrade", "restarting"),
	"upgrade":         stateSet("active", "activating", "inactive", "updating-active"),
	"continueupgrade": stateSet("canceled-upgrade"),
	"cancelupgrade":   stateSet("upgrading", "finishing-upgrade"),
	"rollback":        stateSet("upgrading", "upgraded", "canceled-upgrade"),
	"finishupgrade":   stateSet("upgraded"),
	"restart":         stateSet("active"),
}

// stackProcesses: the stack.* processes.
var stackProcesses = map[string]states{
	"update": stateSet("active"),
	"remove": stateSet("requested", "active", "activating", "updating-active", "error", "erroring", "upgrading",
		"canceling-upgrade", "rolling-back", "finishing-upgrade", "upgraded", "canceled-upgrade"),
	"upgrade":       stateSet("active", "canceled-upgrade"),
	"cancelupgrade": stateSet("upgrading", "finishing-upgrade"),
	"rollback":      stateSet("upgrading", "upgraded", "canceled-upgrade"),
	"finishupgrade": stateSet("upgraded"),
}

// hostProcesses: <process:defaultProcesses resourceType="host"> with the
// explicit host.activate and host.remove.
var hostProcesses = map[string]states{
	"activate": stateSet("inactive", "registering", "provisioned"),
	"deactivate": stateSet("requested", "active", "activating", "updating-active",
		"updating-inactive"),
	"remove": stateSet("erroring", "error", "requested", "inactive", "activating", "deactivating",
		"registering", "updating-active", "updating-inactive", "provisioning"),
	"purge":   stateSet("removed"),
	"restore": stateSet("removed"),
	"update":  stateSet("inactive", "active"),
}

// processesOf returns the process table of an object type.
func processesOf(typ string) map[string]states {
	switch typ {
	case typeContainer, typeInstance:
		return instanceProcesses
	case typeService:
		return serviceProcesses
	case typeStack:
		return stackProcesses
	case typeHost:
		return hostProcesses
	}
	return nil
}

// handlerStates are the states in which actions without a process are
// advertised. UNCONFIRMED: Cattle's handlers check the state themselves;
// execute, proxy and console need a running container, the others any
// object that is not removed.
var handlerStates = map[string]states{
	"execute": stateSet("running"),
	"proxy":   stateSet("running"),
	"console": stateSet("running"),
}

// actionAllowed reports whether an action may run on an object of typ in
// state, and the process name for Cattle's error message.
func actionAllowed(typ, action, state string) bool {
	if st, ok := processesOf(typ)[action]; ok {
		return st[state]
	}
	if st, ok := handlerStates[action]; ok {
		return st[state]
	}
	return state != "removed" && state != "purging" && state != "purged" && state != "removing"
}

// availableActions filters a schema's resource actions by state, sorted.
func availableActions(d *schemaDef, typ, state string) []string {
	var out []string
	for name := range d.actions {
		if actionAllowed(typ, name, state) {
			out = append(out, name)
		}
	}
	return sortedStrings(out)
}
