package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--bogus"}, 2, "unknown flag"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"--render-only", "--quick"}, 2, "takes no --only"},
		{[]string{"--only", "smoke,nope", "--work", t.TempDir()}, 2, "unknown entries nope"},
		{[]string{"--render-only", "--work", t.TempDir()}, 2, "suite.json"},
		{[]string{"--render-only", "--work", "suite/testdata/suite", "--out", out}, 0, ""},
	} {
		var stderr bytes.Buffer
		code, err := run(c.args, &stderr)
		msg := stderr.String()
		if err != nil {
			msg += err.Error()
		}
		if code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("%q: exit %d, %q; want exit %d and %q", c.args, code, msg, c.code, c.want)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "# swarmdesk results\n") {
		t.Errorf("%s starts %q", out, b[:min(len(b), 40)])
	}
}
