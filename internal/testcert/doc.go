// Package testcert makes a throwaway certificate authority and a server
// certificate for 127.0.0.1 and localhost, written as PEM files, for tests
// that serve or dial TLS on loopback. It is for tests only: the keys are
// fresh per call, short-lived, and never leave the test's directory.
package testcert
