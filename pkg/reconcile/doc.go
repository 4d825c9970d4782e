// Package reconcile is drover's core: it turns the config and a Rancher
// snapshot into the mesh every node should hold (desire.go, pure), compares
// that with what nodes report (plan.go, pure), filters the plan through the
// cluster's policy and the sudden-drop guard (policy.go, guard.go), and runs
// the loop that observes, plans and applies, with drift checks and the
// safety policies of the design notes.
//
// It declares the small interfaces it needs (Observer, Watcher,
// ContainerLookup, Nodes) and never imports go-rancher, net/http or an
// adapter package; cmd/controller wires the adapters in
// (TestImportsStayClean checks it).
//
// # Files
//
//   - controller.go: Controller (Options, New, Run, RunOnce, Announce,
//     Status); the loop hands every trigger to the scheduler and runs what it
//     says is due.
//   - schedule.go: the scheduler, the one place that decides when passes and
//     announcement reads run (TestSchedulerTable); the follow-up reads of
//     announcements are pkg/announce's Tracker, driven by it.
//   - pass.go: one pass (observe, desire, plan, result) and the memory
//     passes keep; apply.go: status reads and pushes; knowledge.go: what is
//     known about each node (status, backoff, last push, container run);
//     fresh.go: decided announcement reads laid over the snapshot.
//   - topology.go: the peers each member should hold under the cluster's
//     topology (Overlay, BoundedDegree: pure) and the refusal of
//     bounded-degree members that run with connect_all true
//     (ExcludeTransitive); plan.go orders a pass's calls in phases (Phase)
//     so that a bounded overlay stays connected through joins and leaves.
//   - statusbuild.go: the pure status builder (buildStatus) and the
//     condition changes logged from its output; status.go: the Status types.
//
// # One clock, one scheduler
//
// Every timer runs on Options.Now and Options.After, and every trigger is a
// request to the scheduler: Rancher events (merged by MinEventGap), the
// resync (ResyncInterval after the last pass that re-listed: the observer
// re-lists Rancher), drift (every DriftInterval: every node's status is
// re-read; Rancher is not re-listed), the confirming pass of a held drop
// (re-lists), the end of a node's backoff, the retry after an aborted pass
// (exponential, re-lists), and announcement reads with the pass after a
// decided one (which does not wait for MinEventGap: the read plan's bucket
// bounds it). At most one pass and one read run at a time.
//
// # The contract of a pass
//
// A pass reads state; it does not replay events. Events and announcements
// only decide when a pass runs. Every node always receives its full peer
// set with a revision that never goes backwards, so a lost, repeated or
// retried push is harmless, and a controller that restarts finds nothing
// to do. A pass recomputes only the clusters whose Rancher data changed
// (mesh.Cluster.Generation, 0 meaning unknown) or that have something
// pending (planned changes, a held drop, a backoff that ended, an
// announcement, a fresh read); a drift pass and RunOnce recompute all.
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
//     TestDeadNodeBacksOffAndConvergesWhenBack,
//     TestUnreachableLeaverDoesNotHoldUpPeers, TestAdminTimeoutIsPerCluster.
//  5. Restarts do not flap: TestControllerRestartDoesNotFlap,
//     TestTwoControllersDoNotFight, and
//     TestAnnouncedReadIsSeenBeforeTheCacheCatchesUp (a read newer than the
//     observer's cache never flaps the node).
//  6. The admin endpoint refuses bad requests:
//     TestAdminEndpointRefusesBadRequests runs pkg/nodeapi's conformance
//     suite (nodeapitest.RunConformance, which the agents run too) against
//     a node the controller drives.
//
// Also: TestSuddenDropHeldForOnePass, TestAddOnlyPolicyNeverRemoves.
package reconcile
