// Package announce is the controller's fast path after a node's
// announcement: the follow-up state machine that decides which announced
// containers to read from Rancher, when, and when to give up (Tracker), and
// its poll plan (Plan). It is pure: no goroutines, no clock of its own (the
// caller passes now), no I/O. The reconciler's scheduler drives it on the
// controller's one clock and makes the reads through its ContainerLookup;
// the HTTP handler that receives announcements lives in pkg/nodeapi.
//
// An announcement is a hint, never membership: Rancher decides. A read is
// "decided" when Rancher's view settles the announcement (a member after
// "up", anything else after "stopping"); the caller then runs a pass.
//
// # The poll plan, from how Rancher behaves
//
//   - The agent announces "up" when its listener opens, and again right
//     after it answers each health probe, until a peer set is applied (at
//     most every 500 ms, during its first 2 minutes). Cattle turns a
//     container healthy when the probe that passes its healthy threshold
//     is recorded, at once or a little later on a busy server, so the read
//     that matters is the one just after an announcement (every
//     millisecond before it is a millisecond of every join), one soon
//     after for a slower server, and the next announcement comes with the
//     next probe.
//   - "stopping": Cattle stores the state stopping before Docker sends
//     SIGTERM, so it is visible at once.
//   - Between announcements nothing is read: Cattle's events (1 s ticks)
//     and the next announcement bring any change.
//
// Hence, after the latest announcement of an IP:
//
//	event     reads at (after the announcement)   gives up
//	up        +2 ms, +15 ms, +60 ms               after the +60 ms read
//	stopping  +0 ms, +60 ms                       after the +60 ms read
//
// A read that decides ends the follow-up; a re-announcement starts the plan
// again from its first offset. A failed read counts as done (no retry
// storm); the next offset or announcement reads again.
//
// # Batching and the bound on reads
//
// One read answers every pending IP (up to Plan.MaxBatch): announcements
// that overlap share reads, so 50 containers announcing at once cost one
// read per offset, not 50. Reads are bounded by a token bucket (Plan.Rate
// per second, Plan.Burst at once) and one read is in flight at a time, so
// any storm costs at most Burst + Rate×seconds reads, whatever the number
// of nodes. Plan.MaxPending bounds the IPs followed at once; Announce
// refuses more.
//
// # Cost per join-and-leave cycle
//
// With Rancher's default health check (healthy after 2 probes, 2 s apart):
// "up" at listener open (3 reads, still initializing), "up" after probe 1
// (3 reads), "up" after probe 2 (1 read: healthy; 2 if Cattle took up to
// 15 ms, 3 if longer), "stopping" (1 read, 2 if Cattle had not stored it
// yet): 8 reads, 11 at most; in general at most 3×(healthyThreshold+1)+2.
// Without a health check: 1 read to join, 1 to leave. TestJoinAndLeaveCycleCost and TestScaleUpOfFiftyCostsO1ReadsPerStep
// check these counts on an injected clock.
package announce
