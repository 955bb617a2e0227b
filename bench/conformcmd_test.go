package main

import (
	"bytes"
	"strings"
	"testing"

	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
)

// TestConformCmd: bench conform exits 0 against a conforming server, 1
// naming the failed cases when some fail, 2 on bad usage or a target that
// cannot be reached.
func TestConformCmd(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code, err := run([]string{"conform", "--target", srv.Addr}, &stdout, &stderr); code != 0 || err != nil {
		t.Fatalf("conform: exit %d, %v\n%s", code, err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "PASS resume/hello") || !strings.Contains(stdout.String(), "0 failed") {
		t.Errorf("report:\n%s", stdout.String())
	}
	stdout.Reset()
	if code, err := run([]string{"conform", "--target", "tcp://" + srv.Addr, "--run", "^session/", "--json"}, &stdout, &stderr); code != 0 || err != nil {
		t.Fatalf("conform --json: exit %d, %v", code, err)
	}
	if !strings.Contains(stdout.String(), `"name": "session/ping-pong"`) || strings.Contains(stdout.String(), "routing/") {
		t.Errorf("JSON report:\n%s", stdout.String())
	}
	// A group the tenant does not have: the routing cases fail.
	stdout.Reset()
	code, err := run([]string{"conform", "--target", srv.Addr, "--group", "no-such-group", "--run", "^routing/|^session/hello"}, &stdout, &stderr)
	if code != 1 || err == nil || !strings.Contains(err.Error(), "routing/assignment, routing/chat, routing/queue") {
		t.Fatalf("conform with a bad group: exit %d, %v; want 1 naming the routing cases\n%s", code, err, stdout.String())
	}
	for _, args := range [][]string{
		{"conform"},
		{"conform", "--target", "localhost"},
		{"conform", "--target", "ftp://h:1"},
		{"conform", "--target", srv.Addr, "--run", "("},
		{"conform", "--target", srv.Addr, "--run", "no-such-case"},
		{"conform", "--target", srv.Addr, "extra"},
		{"conform", "--target", "127.0.0.1:1"},
	} {
		if code, err := run(args, &stdout, &stderr); code != 2 || err == nil {
			t.Errorf("%q: exit %d, %v; want 2 and an error", args, code, err)
		}
	}
	if code, err := run([]string{"conform", "--help"}, &stdout, &stderr); code != 0 || err != nil {
		t.Errorf("conform --help: exit %d, %v", code, err)
	}
}
