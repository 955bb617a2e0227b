// Package longtest marks the tests too long or too sensitive to machine
// load for the README's test command (go test -race ./..., which must pass
// in five minutes on a busy two-core machine): minutes of load, crash
// tests, searches over many runs. They run when SWARMDESK_LONG=1, as
// `make test-long` (and so .ci/run) sets it.
package longtest

import (
	"os"
	"testing"
)

// Env is the environment variable that runs the long tests.
const Env = "SWARMDESK_LONG"

// Enabled reports whether the long tests run.
func Enabled() bool { return os.Getenv(Env) == "1" }

// Require skips t unless the long tests run; why says what makes it long.
func Require(t testing.TB, why string) {
	t.Helper()
	if !Enabled() {
		t.Skipf("long test (%s): runs with %s=1, as make test-long does", why, Env)
	}
}
