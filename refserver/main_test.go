package main

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/swarmdesk/swarmdesk/refserver/child"
	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// runMain is the environment variable that makes the test binary run
// refserver's main instead of the tests.
const runMain = "SWARMDESK_TEST_RUN_MAIN"

// TestMain runs main when TestBinary starts this test binary as the
// server: it holds main as go build would, so the test needs no build of
// its own (one costs tens of seconds on a busy machine).
func TestMain(m *testing.M) {
	if os.Getenv(runMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBinary runs refserver's main as a child with the demo tenant, checks
// /healthz and /metrics, talks to it, and stops it with SIGTERM: it must
// exit 0.
func TestBinary(t *testing.T) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(runMain, "1") // inherited by the child
	p, err := child.Start(bin, "--loops", "1")
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = p.Stop()
		}
	}()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(p.AdminURL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz = %d %q", code, body)
	}

	c, ready, err := rt.Connect(p.Addr, wire.RoleCustomer, "demo", "u1", "phone")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ready.MaxFrame != wire.DefaultMaxFrame || ready.HeartbeatMS == 0 {
		t.Fatalf("ready %+v", ready)
	}
	if _, err := c.Open(""); err != nil {
		t.Fatal(err)
	}

	_, metrics := get("/metrics")
	for _, s := range []string{`swarmdesk_connections{role="customer"} 1`, "swarmdesk_frames_in_total 2", `swarmdesk_queue_length{tenant="demo",group="general"} 0`} {
		if !strings.Contains(metrics, s) {
			t.Errorf("/metrics lacks %q", s)
		}
	}
	stopped = true
	if err := p.Stop(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}
