package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmdesk/swarmdesk/tools/floor/floor"
)

// TestMain makes the test binary the floor command when run as "serve":
// the floor starts its server as os.Executable() serve.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestRun runs the command end to end: its server as a child process of
// itself, its summary on stdout, its report as JSON.
func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub", "floor.json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--conns", "300", "--hold", "10ms", "--json", out}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "floor: 300 connections held of 300 asked") || !strings.Contains(stdout.String(), "client/server CPU: ") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res floor.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Schema != floor.Schema || res.Connections != 300 || res.ServerAnswered != 300 || res.Server.Pid == os.Getpid() {
		t.Errorf("report: %+v", res)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"--conns", "0"}, {"--hold", "-1s"}, {"extra"}, {"--nope"}, {"serve", "--nope"}} {
		var stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &bytes.Buffer{}, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
