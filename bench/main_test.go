package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smokeResult is a real result document of a smoke run.
var smokeResult = filepath.Join("..", "reports", "render", "testdata", "smoke.json")

// TestReportCmd renders a result as HTML and as Markdown, and refuses bad
// usage with exit status 2.
func TestReportCmd(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var stdout, stderr bytes.Buffer
	if code, err := run([]string{"report", smokeResult, smokeResult, "--label", "a", "--label", "b", "-o", page}, &stdout, &stderr); code != 0 || err != nil {
		t.Fatalf("report: exit %d, %v\n%s", code, err, stderr.String())
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(html), `<figure class="chart"`); n < 10 {
		t.Errorf("report page has %d charts", n)
	}
	stdout.Reset()
	if code, err := run([]string{"report", smokeResult, "--format", "md"}, &stdout, &stderr); code != 0 || err != nil {
		t.Fatalf("report --format md: exit %d, %v", code, err)
	}
	if !strings.Contains(stdout.String(), "| delivery") {
		t.Errorf("markdown report has no delivery row:\n%.500s", stdout.String())
	}
	for _, args := range [][]string{
		{"report"},
		{"report", filepath.Join(dir, "missing.json")},
		{"report", smokeResult, "--format", "pdf"},
		{"report", smokeResult, "--label", "a", "--label", "b"},
	} {
		if code, err := run(args, &stdout, &stderr); code != 2 || err == nil {
			t.Errorf("%q: exit %d, %v; want 2 and an error", args, code, err)
		}
	}
}

// TestCompareCmd: a result compared with itself, one run a side, is
// inconclusive (exit 2), and the verdict is written where asked all the
// same; bad usage exits 2. TestCompareVerdicts has the other verdicts.
func TestCompareCmd(t *testing.T) {
	dir := t.TempDir()
	md, js := filepath.Join(dir, "v.md"), filepath.Join(dir, "v.json")
	var stdout, stderr bytes.Buffer
	code, err := run([]string{"compare", smokeResult, smokeResult, "--md", md, "--json", js, "--threshold", "delivery.p99=10%"}, &stdout, &stderr)
	if code != 2 || err == nil || !strings.Contains(err.Error(), "inconclusive") {
		t.Fatalf("compare: exit %d, %v; want 2, inconclusive\n%s", code, err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "**inconclusive**") {
		t.Errorf("verdict:\n%s", stdout.String())
	}
	for _, p := range []string{md, js} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}
	for _, args := range [][]string{
		{"compare", smokeResult},
		{"compare", smokeResult, smokeResult, "--format", "xml"},
		{"compare", smokeResult, smokeResult, "--threshold", "delivery.p99"},
		{"compare", smokeResult, filepath.Join(dir, "missing")},
	} {
		if code, err := run(args, &stdout, &stderr); code != 2 || err == nil {
			t.Errorf("%q: exit %d, %v; want 2 and an error", args, code, err)
		}
	}
}

// TestRunFlags: bad --chaos and --durability values, and combinations
// bench run cannot play, exit 2 with an error saying why, before anything
// starts.
func TestRunFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--chaos", "kill-server"}, "kill-server:EVERY"},
		{[]string{"run", "--chaos", "kill-server:soon"}, "not a positive duration"},
		{[]string{"run", "--chaos", "kill-server:-5s"}, "not a positive duration"},
		{[]string{"run", "--chaos", "kill-client:5s"}, "kill-server:EVERY"},
		{[]string{"run", "--chaos", "kill-server:5s", "--target", "127.0.0.1:7400"}, "embedded server only"},
		{[]string{"run", "--chaos", "kill-server:5s", "--find-max"}, "--find-max"},
		{[]string{"run", "--chaos", "kill-server:5s", "--durability", "none"}, "durability sync"},
		{[]string{"run", "--durability", "fsync"}, "want none, batch or sync"},
		{[]string{"run", "--durability", "sync", "--target", "127.0.0.1:7400"}, "--target"},
		{[]string{"run", "--cpus", ""}, "empty CPU list"},
		{[]string{"run", "--server-cpus", " "}, "empty CPU list"},
		{[]string{"run", "--server-cpus", "0", "--target", "127.0.0.1:7400"}, "not bench's to place"},
		{[]string{"run", "--no-pin", "--cpus", "0"}, "--no-pin"},
		{[]string{"run", "--cpus", "1023"}, "CPU 1023 is not among the CPUs bench may run on"},
		{[]string{"run", "--cpus", "0-"}, "--cpus: cpu list"},
	} {
		code, err := run(c.args, &stdout, &stderr)
		if code != 2 || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: exit %d, %v; want 2 and an error saying %q", c.args, code, err, c.want)
		}
	}
	stderr.Reset()
	if code, err := run([]string{"run", "--help"}, &stdout, &stderr); code != 0 || err != nil {
		t.Fatalf("run --help: exit %d, %v", code, err)
	}
	for _, flag := range []string{"--chaos", "--durability", "kill-server:EVERY", "--cpus", "--server-cpus", "--no-pin"} {
		if !strings.Contains(stderr.String(), flag) {
			t.Errorf("run --help does not mention %s", flag)
		}
	}
}
