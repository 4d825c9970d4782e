// Package nodeapitest provides recording fake nodes for tests: agents
// served by httptest that record every peer set they receive, and a helper
// that starts many of them.
package nodeapitest
