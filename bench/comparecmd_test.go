package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmdesk/swarmdesk/reports"
)

// TestCompareVerdicts: bench compare's exit status is its verdict: 0 no
// regression, 1 a regression, 2 inconclusive (one run a side) or sides it
// refuses (a simulation against a run); differences of kind it compares
// anyway are said on stderr as well as in the verdict.
func TestCompareVerdicts(t *testing.T) {
	dir := t.TempDir()
	// side writes n copies of the smoke result, each edited, as a
	// directory of runs, and returns the directory.
	side := func(name string, n int, edit func(i int, r *reports.Result)) string {
		for i := range n {
			r, err := reports.ReadFile(smokeResult)
			if err != nil {
				t.Fatal(err)
			}
			if edit != nil {
				edit(i, r)
			}
			p := filepath.Join(dir, name, "run-"+string(rune('1'+i)), "result.json")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := reports.WriteFile(p, r); err != nil {
				t.Fatal(err)
			}
		}
		return filepath.Join(dir, name)
	}
	sim := func(_ int, r *reports.Result) { r.Sim = &reports.Sim{SimulatedS: r.DurationS} }
	base := side("base", 4, func(_ int, r *reports.Result) { r.Transport = "tcp" })
	tests := []struct {
		name string
		args []string
		code int
		// err, stdout and stderr are parts of what must be said; notOut
		// must not be on stdout.
		err, stdout, stderr, notOut string
	}{{
		name:   "one run a side: inconclusive",
		args:   []string{smokeResult, smokeResult},
		code:   2,
		err:    "inconclusive: 1 run in base and 1 run in new: a verdict needs at least 4 runs a side",
		stdout: "⚠️ **inconclusive**",
		notOut: "no regression",
	}, {
		name:   "four alike runs a side: no regression",
		args:   []string{base, side("same", 4, func(_ int, r *reports.Result) { r.Transport = "tcp" })},
		code:   0,
		stdout: "✅ **no regression**",
	}, {
		name:   "a message lost in a new run: a regression",
		args:   []string{base, side("lost", 4, func(i int, r *reports.Result) { r.Messages.Lost = int64(i / 3) })},
		code:   1,
		err:    "1 regression(s)",
		stdout: "| `messages.lost` | 0 (4 runs) | 1 in total (4 runs) | — | — | ❌ regression (was 0) |",
	}, {
		name: "a simulation against a run: refused",
		args: []string{base, side("sim", 4, sim)},
		code: 2,
		err:  "compare: sides of different kinds: base bench run (real connections), new bench sim (virtual time)",
	}, {
		name:   "a simulation against a run, allowed: said on stderr and under the verdict",
		args:   []string{base, filepath.Join(dir, "sim"), "--allow-mixed"},
		code:   0,
		stdout: "**The two sides are not alike**",
		stderr: "bench compare: warning: kinds differ",
	}, {
		name:   "transports differ: compared, said on stderr",
		args:   []string{base, side("polling", 4, func(_ int, r *reports.Result) { r.Transport = "http long polling" })},
		code:   0,
		stdout: "transports differ",
		stderr: "bench compare: warning: transports differ",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			md := filepath.Join(t.TempDir(), "verdict.md")
			code, err := run(append([]string{"compare", "--md", md}, tt.args...), &stdout, &stderr)
			if code != tt.code || (err != nil) != (tt.code != 0) || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("exit %d, %v; want %d with %q\n%s", code, err, tt.code, tt.err, stdout.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) || tt.notOut != "" && strings.Contains(stdout.String(), tt.notOut) {
				t.Errorf("stdout lacks %q or has %q:\n%s", tt.stdout, tt.notOut, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr.String())
			}
			// The verdict file is written whenever there is a verdict,
			// inconclusive included.
			if _, err := os.Stat(md); (err == nil) != (stdout.Len() > 0) {
				t.Errorf("verdict file written: %v, verdict printed: %v", err == nil, stdout.Len() > 0)
			}
		})
	}
}
