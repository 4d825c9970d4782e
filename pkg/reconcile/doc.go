// Package reconcile is drover's core: it turns the config and a Rancher
// snapshot into the mesh every node should hold (desire.go, pure), compares
// that with what nodes report (plan.go, pure), filters the plan through the
// cluster's policy and the sudden-drop guard (policy.go, guard.go), and runs
// the loop that observes, plans and applies (controller.go), with drift
// checks and the safety policies of the design notes.
//
// It declares the small interfaces it needs (Observer, Watcher,
// ContainerLookup, Nodes) and never imports go-rancher, net/http or an
// adapter package; cmd/controller wires the adapters in
// (TestImportsStayClean checks it).
//
// # The contract of a pass
//
// A pass reads state; it does not replay events. Events and announcements
// only decide when a pass runs. Every node always receives its full peer
// set with a revision that never goes backwards, so a lost, repeated or
// retried push is harmless, and a controller that restarts finds nothing
// to do.
//
// # Safety rules and their tests
//
//  1. Never act on partial knowledge: TestNeverActOnPartialKnowledge,
//     TestDesireRefusesPartialSnapshot, and the integration scenario
//     "Rancher API down during a scale down".
//  2. Membership follows state and health: TestMembershipFollowsStateAndHealth.
//  3. Pushes are idempotent: TestPushesAreIdempotent, and the idempotency
//     check that ends every integration scenario.
//  4. One slow node never delays the others: TestSlowNodeNeverDelaysOthers,
//     TestDeadNodeBacksOffAndConvergesWhenBack.
//  5. Restarts do not flap: TestControllerRestartDoesNotFlap,
//     TestTwoControllersDoNotFight.
//  6. The admin endpoint refuses bad requests:
//     TestAdminEndpointRefusesBadRequests runs pkg/nodeapi's conformance
//     suite (nodeapitest.RunConformance, which the agents run too) against
//     a node the controller drives.
//
// Also: TestSuddenDropHeldForOnePass, TestAddOnlyPolicyNeverRemoves.
package reconcile
