package nodeagent_test

// secret is the bearer token of the agents the tests start.
const secret = "tok-4f9a1c"
