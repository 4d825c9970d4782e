// Package testwait is the one "eventually" helper of drover's tests and
// test tools: Poll retries a check until it holds, a deadline passes or
// the check gives up (Permanent); Eventually and EventuallyNil fail a test
// when a condition does not hold in time. Tests wait on conditions, never
// on bare sleeps; timeouts are generous, because the machine may be
// loaded, and no test judges speed by them.
//
// It must only be imported from tests and test tooling (test/harness).
package testwait
