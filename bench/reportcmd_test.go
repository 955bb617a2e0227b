package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReportUnfinished: among several results, a run directory without a
// result.json (what a failed setup leaves) is skipped with a warning
// naming it, and the rest are rendered; alone, it is an error (exit 2)
// saying the run did not finish.
func TestReportUnfinished(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "smoke-1"), filepath.Join(dir, "smoke-2")
	for _, d := range []string{good, bad} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := os.ReadFile(smokeResult)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(good, "result.json"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "delivery.hlog"), []byte("#[StartTime: 0]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code, err := run([]string{"report", good, bad, "--format", "md"}, &stdout, &stderr)
	if code != 0 || err != nil {
		t.Fatalf("exit %d, %v\n%s", code, err, stderr.String())
	}
	if want := "report: skipping " + bad + ": no result.json: the run did not finish"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q lacks %q", stderr.String(), want)
	}
	if !strings.Contains(stdout.String(), "# swarmdesk report: smoke-1\n") {
		t.Errorf("report not of smoke-1 alone:\n%.200s", stdout.String())
	}
	code, err = run([]string{"report", bad}, &stdout, &stderr)
	if code != 2 || err == nil || !strings.Contains(err.Error(), "no result.json: the run did not finish") {
		t.Errorf("a lone unfinished run: exit %d, %v; want 2 and the reason", code, err)
	}
}

func TestDefaultLabels(t *testing.T) {
	tests := []struct{ paths, want []string }{
		{[]string{"results/smoke-20261121T101500Z", "results/smoke-20261121T111500Z/"}, []string{"smoke-20261121T101500Z", "smoke-20261121T111500Z"}},
		{[]string{"base/result.json", "new/result.json"}, []string{"base", "new"}},
		{[]string{"peak.json"}, []string{"peak"}},
		// Alike: the paths as given.
		{[]string{"a/x/result.json", "b/x"}, []string{"a/x/result.json", "b/x"}},
		{[]string{"result.json"}, []string{"result.json"}},
	}
	for _, tt := range tests {
		if got := defaultLabels(tt.paths); !slices.Equal(got, tt.want) {
			t.Errorf("defaultLabels(%q) = %q, want %q", tt.paths, got, tt.want)
		}
	}
}
