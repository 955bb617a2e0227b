package suite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
)

// shEntry is an entry that runs a shell script and reads nothing but its
// stdout, which must hold "ok".
func shEntry(id, script string) Entry {
	return Entry{
		ID: id, Title: id,
		Cmd:     []string{"sh", "-c", script},
		Timeout: time.Minute,
		parse: func(dir string, _ *Record, _ *Figures) error {
			return readOutput(id, dir, StdoutFile, func(path string) error {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if !strings.Contains(string(b), "ok") {
					return errors.New("no ok in the output")
				}
				return nil
			})
		},
	}
}

func readManifest(t *testing.T, root string) map[string]Record {
	t.Helper()
	m := &Manifest{}
	if err := readJSON(filepath.Join(root, "work", ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	out := map[string]Record{}
	for _, r := range m.Entries {
		out[r.ID] = r
	}
	return out
}

func TestExecute(t *testing.T) {
	root := t.TempDir()
	entries := []Entry{
		shEntry("a", "echo ok; echo ok > {out}/file.txt"),
		shEntry("b", "echo ok; exit 1"),
	}
	entries[1].OKExit = []int{1}
	opts := Options{Root: root, Work: "work"}
	if err := Execute(context.Background(), entries, opts); err != nil {
		t.Fatal(err)
	}
	recs := readManifest(t, root)
	if a := recs["a"]; !a.Ran || a.Exit != 0 || a.Cmd[2] != "echo ok; echo ok > work/a/file.txt" {
		t.Errorf("a: %+v", a)
	}
	if b := recs["b"]; !b.Ran || b.Exit != 1 {
		t.Errorf("b: %+v (exit 1 is an OKExit)", b)
	}
	for _, f := range []string{"a/file.txt", "a/" + CmdFile, "a/" + StdoutFile, "a/" + StderrFile} {
		if _, err := os.Stat(filepath.Join(root, "work", f)); err != nil {
			t.Error(err)
		}
	}

	// --only b keeps a's record; under --quick nothing of the full run is
	// kept.
	opts.Only = []string{"b"}
	if err := Execute(context.Background(), entries, opts); err != nil {
		t.Fatal(err)
	}
	if a := readManifest(t, root)["a"]; !a.Ran || a.Cmd == nil {
		t.Errorf("a not kept: %+v", a)
	}
	opts.Quick = true
	if err := Execute(context.Background(), entries, opts); err != nil {
		t.Fatal(err)
	}
	if a := readManifest(t, root)["a"]; a.Ran || a.NotRun != "not in --only" {
		t.Errorf("a under --quick --only b: %+v", a)
	}
}

func TestExecuteFailure(t *testing.T) {
	root := t.TempDir()
	entries := []Entry{
		shEntry("good", "echo ok"),
		shEntry("bad", "echo ok; echo 'bench: setup: the port is taken' >&2; exit 3"),
		shEntry("after", "echo ok"),
	}
	err := Execute(context.Background(), entries, Options{Root: root, Work: "work"})
	if !errors.Is(err, ErrEntry) {
		t.Fatalf("error %v, want ErrEntry", err)
	}
	for _, want := range []string{"entry bad:", "exited with status 3", "the port is taken", filepath.Join("work", "bad", StderrFile)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	recs := readManifest(t, root)
	if !recs["good"].Ran || recs["bad"].Ran || recs["bad"].NotRun != "failed" || recs["after"].Ran {
		t.Errorf("manifest after a failure: %+v", recs)
	}
}

func TestExecuteParseFailure(t *testing.T) {
	root := t.TempDir()
	err := Execute(context.Background(), []Entry{shEntry("quiet", "echo nothing")}, Options{Root: root, Work: "work"})
	if !errors.Is(err, ErrEntry) || !strings.Contains(err.Error(), "entry quiet:") || !strings.Contains(err.Error(), StdoutFile) {
		t.Errorf("error %v", err)
	}
}

func TestExecuteTimeout(t *testing.T) {
	root := t.TempDir()
	e := shEntry("slow", "sleep 30 & sleep 30; echo ok")
	e.Timeout = 200 * time.Millisecond
	start := time.Now()
	err := Execute(context.Background(), []Entry{e}, Options{Root: root, Work: "work"})
	if !errors.Is(err, ErrEntry) || !strings.Contains(err.Error(), "entry slow:") || !strings.Contains(err.Error(), "timed out after 200ms") {
		t.Errorf("error %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to stop", d)
	}
}

func TestExecuteVars(t *testing.T) {
	root := t.TempDir()
	e := shEntry("v", "echo ok {rate}")
	e.vars = func(string) (map[string]string, string, error) { return map[string]string{"rate": "2.5"}, "", nil }
	skip := shEntry("s", "echo ok")
	skip.vars = func(string) (map[string]string, string, error) { return nil, "nothing to run at", nil }
	if err := Execute(context.Background(), []Entry{e, skip}, Options{Root: root, Work: "work"}); err != nil {
		t.Fatal(err)
	}
	recs := readManifest(t, root)
	if v := recs["v"]; v.Cmd[2] != "echo ok 2.5" || v.Vars["rate"] != "2.5" {
		t.Errorf("v: %+v", v)
	}
	if s := recs["s"]; s.Ran || s.NotRun != "nothing to run at" {
		t.Errorf("s: %+v", s)
	}
}

func TestSelectEntries(t *testing.T) {
	entries := Standard()
	for _, c := range []struct {
		name string
		opts Options
		prev *Manifest
		want string // error text, or the entries that run
	}{
		{"all", Options{}, nil, "machine micro fanout bot smoke connections floor find-max half-load durability crash chaos soak faults erlang sim-speed ten-million plan"},
		{"quick", Options{Quick: true}, nil, "machine micro fanout bot smoke connections floor find-max half-load durability crash chaos faults erlang sim-speed"},
		{"quick only soak", Options{Quick: true, Only: []string{"soak"}}, nil, "machine soak"},
		{"quick only long", Options{Quick: true, Only: []string{"plan"}}, nil, "machine plan"},
		{"skip", Options{Skip: []string{"ten-million", "plan", "soak"}}, nil, "machine micro fanout bot smoke connections floor find-max half-load durability crash chaos faults erlang sim-speed"},
		{"unknown", Options{Only: []string{"smoke", "nope"}}, nil, "unknown entries nope"},
		{"skip machine", Options{Skip: []string{"machine"}}, nil, "always runs"},
		{"needs", Options{Only: []string{"half-load"}}, nil, "half-load needs the outputs of find-max"},
		{"needs kept", Options{Only: []string{"half-load"}}, &Manifest{Entries: []Record{{ID: "find-max", Ran: true}}}, "machine half-load"},
		{"needs kept quick", Options{Only: []string{"half-load"}, Quick: true}, &Manifest{Entries: []Record{{ID: "find-max", Ran: true}}}, "half-load needs the outputs of find-max"},
	} {
		run, _, err := selectEntries(entries, c.opts, c.prev)
		var got string
		if err != nil {
			if !errors.Is(err, ErrUsage) {
				t.Errorf("%s: %v is not ErrUsage", c.name, err)
			}
			got = err.Error()
		} else {
			var ids []string
			for _, e := range entries {
				if run[e.ID] {
					ids = append(ids, e.ID)
				}
			}
			got = strings.Join(ids, " ")
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestStandard checks the suite's data: ids unique, commands as
// RESULTS.md quotes them, every entry readable.
func TestStandard(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Standard() {
		if seen[e.ID] {
			t.Errorf("entry %s twice", e.ID)
		}
		seen[e.ID] = true
		if e.parse == nil {
			t.Errorf("%s: no parse", e.ID)
		}
		if e.ID != MachineID && (len(e.Cmd) == 0 || e.Timeout <= 0) {
			t.Errorf("%s: no command or timeout", e.ID)
		}
		if e.Needs != "" && !seen[e.Needs] {
			t.Errorf("%s needs %s, which does not run before it", e.ID, e.Needs)
		}
	}
	for id, want := range map[string]string{
		"micro":       `go test -run '^$' -bench . -benchmem -benchtime 1s -count 3 ./refserver/wire ./refserver/routing ./refserver/bot ./refserver/fanout ./refserver/desk ./bench/record`,
		"fanout":      `go test -run '^$' -bench BroadcastProcess -benchmem -benchtime 3s ./refserver/transport/gnet`,
		"bot":         `go test -count=1 -run TestSampleHeldout -v ./refserver/bot`,
		"smoke":       `bin/bench run smoke --out {out}`,
		"connections": `bin/bench run connections --out {out}`,
		"floor":       `go run ./tools/floor --json {out}/floor.json`,
		"find-max":    `bin/bench run smoke --find-max --find-max-start 4 --find-max-steps 10 --out {out}`,
		"half-load":   `bin/bench run smoke --rate {rate} --out {out}`,
		"durability":  `go test -run '^$' -bench '^BenchmarkDurability$' -benchtime 100000x -count 3 ./refserver/daemon`,
		"crash":       `go test -count=1 -run '^TestCrashRecovery$' -v ./refserver/daemon`,
		"chaos":       `bin/bench run chaos --chaos kill-server:10s --durability sync --duration 20m --out {out}`,
		"soak":        `go run ./tools/soak --duration 10m --out {out}`,
		"faults":      `env SWARMDESK_LONG=1 go test -count=1 -run 'Stall|Faults|Healthy|Knee' -v ./bench/runner`,
		"erlang":      `env SWARMDESK_LONG=1 go test -count=1 -run TestErlang -v ./bench/sim`,
		"sim-speed":   `go test -run '^$' -bench 'PeakHour|Smoke' -benchtime 3x ./bench/sim`,
		"ten-million": `bin/bench sim ten-million --out {out}`,
		"plan":        `bin/bench plan peak-hour --out {out}/plan.json`,
	} {
		for _, e := range Standard() {
			if e.ID == id {
				if got := strings.NewReplacer("'{out}'", "{out}", "'{rate}'", "{rate}", "'{out}/plan.json'", "{out}/plan.json", "'{out}/floor.json'", "{out}/floor.json").Replace(shellQuote(e.Cmd)); got != want {
					t.Errorf("%s:\n got %s\nwant %s", id, got, want)
				}
			}
		}
	}
}

// TestChaosKills: the chaos entry's commands kill the server at least
// twice (the first kill comes one period after the start, the last before
// the scenario's wall time is over), and the standard command as often as
// make chaos.
func TestChaosKills(t *testing.T) {
	kills := func(cmd []string) int {
		t.Helper()
		flag := func(name string) string {
			i := slices.Index(cmd, name)
			if i < 0 || i+1 >= len(cmd) {
				t.Fatalf("%s: no %s", shellQuote(cmd), name)
			}
			return cmd[i+1]
		}
		sc, err := scenario.LoadNamed(cmd[2])
		if err != nil {
			t.Fatal(err)
		}
		d, err := time.ParseDuration(flag("--duration"))
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.Apply(scenario.Overrides{Duration: &d}); err != nil {
			t.Fatal(err)
		}
		every, err := time.ParseDuration(strings.TrimPrefix(flag("--chaos"), "kill-server:"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for off := every; off < sc.WallDuration(); off += every {
			n++
		}
		return n
	}
	for _, e := range Standard() {
		if e.ID != "chaos" {
			continue
		}
		if n := kills(e.QuickCmd); n < 2 {
			t.Errorf("the quick command kills the server %d times, want at least 2", n)
		}
		if n := kills(e.Cmd); n < 10 {
			t.Errorf("the standard command kills the server %d times, want at least 10", n)
		}
		return
	}
	t.Fatal("no chaos entry")
}

// TestKeepSection: the comparison's section comes from the old file when
// it has one, and the rendered placeholder stays when it has none.
func TestKeepSection(t *testing.T) {
	rendered := []byte("# R\n<!-- compare-designs:begin -->\nNot measured yet.\n<!-- compare-designs:end -->\n## next\n")
	old := []byte("# old\n<!-- compare-designs:begin -->\n| table |\n<!-- compare-designs:end -->\n## old next\n")
	got := string(keepSection(old, rendered))
	want := "# R\n<!-- compare-designs:begin -->\n| table |\n<!-- compare-designs:end -->\n## next\n"
	if got != want {
		t.Fatalf("kept:\n%s\nwant:\n%s", got, want)
	}
	if got := string(keepSection([]byte("# no markers\n"), rendered)); got != string(rendered) {
		t.Fatalf("without an old section:\n%s", got)
	}
}
