package compare

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/swarmdesk/swarmdesk/reports"
)

// write writes r to path, creating its directory.
func write(t *testing.T, path string, r *reports.Result) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := reports.WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
}

// writeText writes text to path.
func writeText(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	small := spec{intervals: 5, perInterval: 50}
	for i, p := range []string{"run-2/result.json", "run-1/result.json", "extra.json", "run-3/result.json"} {
		s := small
		s.draw, s.slot = uint64(i), i
		write(t, filepath.Join(dir, p), run(t, s))
	}
	// Not runs: text files, a directory without result.json, hidden files,
	// results two levels down.
	writeText(t, filepath.Join(dir, "notes.txt"), "not a result")
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeText(t, filepath.Join(dir, ".draft.json"), "{}")
	write(t, filepath.Join(dir, "run-1", "step", "result.json"), run(t, small))

	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "extra.json"),
		filepath.Join(dir, "run-1", "result.json"),
		filepath.Join(dir, "run-2", "result.json"),
		filepath.Join(dir, "run-3", "result.json"),
	}
	if !slices.Equal(set.Paths, want) {
		t.Errorf("paths %q, want %q", set.Paths, want)
	}
	if len(set.Results) != 4 || set.Label != dir {
		t.Errorf("%d results labelled %q", len(set.Results), set.Label)
	}
	// run-1/result.json was the second written, from draw 1.
	if got, want := set.Results[1].Start, run(t, spec{draw: 1, slot: 1, intervals: 5, perInterval: 50}).Start; !got.Equal(want) {
		t.Errorf("run-1 started %v, want %v", got, want)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "result.json")
	write(t, path, run(t, spec{intervals: 5, perInterval: 50}))
	set, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Results) != 1 || !slices.Equal(set.Paths, []string{path}) || set.Results[0].Scenario != "smoke" {
		t.Errorf("set %+v", set)
	}
}

func TestLoadErrors(t *testing.T) {
	small := spec{intervals: 5, perInterval: 50}
	tests := []struct {
		name string
		// setup fills dir and returns the path to load and the path the
		// error must name.
		setup func(t *testing.T, dir string) (load, named string)
		want  error
	}{{
		name: "not a result",
		setup: func(t *testing.T, dir string) (string, string) {
			write(t, filepath.Join(dir, "run-1", "result.json"), run(t, small))
			p := filepath.Join(dir, "run-2", "result.json")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			writeText(t, p, `{"hello": "world"}`)
			return dir, p
		},
		want: reports.ErrSchema,
	}, {
		name: "empty directory",
		setup: func(t *testing.T, dir string) (string, string) {
			writeText(t, filepath.Join(dir, "notes.txt"), "no results here")
			return dir, dir
		},
		want: ErrEmpty,
	}, {
		name: "mixed scenarios",
		setup: func(t *testing.T, dir string) (string, string) {
			write(t, filepath.Join(dir, "a.json"), run(t, small))
			peak := small
			peak.scenario = "peak"
			write(t, filepath.Join(dir, "b.json"), run(t, peak))
			return dir, filepath.Join(dir, "b.json")
		},
		want: ErrScenario,
	}, {
		name: "find-max result",
		setup: func(t *testing.T, dir string) (string, string) {
			r := run(t, small)
			r.FindMax = &reports.FindMax{Parameter: "customers.rate", Best: 100, Precision: 0.05, Stopped: "settled"}
			p := filepath.Join(dir, "result.json")
			write(t, p, r)
			return p, p
		},
		want: ErrNotRun,
	}, {
		name: "missing",
		setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "nothing.json")
			return p, p
		},
		want: os.ErrNotExist,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load, named := tt.setup(t, t.TempDir())
			_, err := Load(load)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), named) {
				t.Errorf("error %q does not name %s", err, named)
			}
		})
	}
}
