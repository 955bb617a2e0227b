package suite

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/RESULTS.golden.md")

// workCopy copies the fixture work directory to results/suite under a new
// root and returns the root.
func workCopy(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "results", "suite"), os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	return root
}

func render(t *testing.T, root string) string {
	t.Helper()
	b, err := Render(Standard(), Options{Root: root, Work: filepath.Join("results", "suite")})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRenderGolden renders the fixture and compares it with the golden
// RESULTS.md (go test -run TestRenderGolden -update rewrites it).
func TestRenderGolden(t *testing.T) {
	got := render(t, workCopy(t))
	golden := filepath.Join("testdata", "RESULTS.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("rendering differs from %s (rerun with -update and review the diff):\n%s", golden, firstDiff(got, string(want)))
	}
	for _, bad := range []string{"<no value>", "%!", "NaN", "Inf"} {
		if strings.Contains(got, bad) {
			t.Errorf("rendering holds %q", bad)
		}
	}
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n got " + x + "\nwant " + y
		}
	}
	return ""
}

var (
	digits     = regexp.MustCompile(`[0-9]+`)
	textNumber = regexp.MustCompile(`[0-9]+(?:\.[0-9]+)?`)
)

// perturbText changes the last digit of every non-zero number in a text
// output (a benchmark's, a test's log), except digits that are part of a
// name, so that figures change and the parsers still find what they look
// for.
func perturbText(s string) string {
	return replaceAllIndex(textNumber, s, func(start, end int) string {
		tok := s[start:end]
		letter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
		if start > 0 && (letter(s[start-1]) || s[start-1] == '-' && start > 1 && letter(s[start-2])) {
			return tok // part of a name: RouteRelease10k, top-1, Benchmark-2
		}
		if end < len(s) {
			if c := s[end]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return tok
			}
		}
		if strings.Trim(tok, "0.") == "" {
			return tok // zero stays zero
		}
		last := tok[len(tok)-1]
		if last == '9' {
			last = '8'
		} else {
			last++
		}
		return tok[:len(tok)-1] + string(last)
	})
}

func replaceAllIndex(re *regexp.Regexp, s string, f func(start, end int) string) string {
	var b strings.Builder
	prev := 0
	for _, m := range re.FindAllStringIndex(s, -1) {
		b.WriteString(s[prev:m[0]])
		b.WriteString(f(m[0], m[1]))
		prev = m[1]
	}
	b.WriteString(s[prev:])
	return b.String()
}

// perturbJSON scales every non-integral number of a JSON document by 1%:
// latencies, CPU seconds, rates change; counts (which must match their
// histograms) do not.
func perturbJSON(t *testing.T, data []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case json.Number:
			if strings.ContainsAny(string(x), ".eE") {
				f, _ := x.Float64()
				return json.Number(strconv.FormatFloat(f*1.01, 'g', -1, 64))
			}
		}
		return v
	}
	out, err := json.MarshalIndent(walk(v), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// perturb changes every figure of the work directory under root, and the
// date and commit by digits only, as a later run at another commit would.
func perturb(t *testing.T, root string) {
	t.Helper()
	work := filepath.Join(root, "results", "suite")
	err := filepath.WalkDir(work, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch name := d.Name(); {
		case name == ManifestFile || name == MachineFile:
			s := strings.ReplaceAll(string(data), "2026-11-21T", "2026-11-22T")
			s = strings.ReplaceAll(s, "1d9f3a0", "1d9f4a1")
			data = []byte(s)
		case strings.HasSuffix(name, ".json"):
			data = perturbJSON(t, data)
		default:
			data = []byte(perturbText(string(data)))
		}
		return os.WriteFile(path, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRenderOnlyFiguresChange is the property RESULTS.md is generated
// for: two runs whose figures differ render texts that are identical once
// digits are masked, so no prose depends on the figures unless computed
// from them; and the date and commit lines differ only in digits.
func TestRenderOnlyFiguresChange(t *testing.T) {
	a, b := workCopy(t), workCopy(t)
	perturb(t, b)
	ta, tb := render(t, a), render(t, b)
	if ta == tb {
		t.Fatal("the perturbed work directory renders the same text: the figures did not change")
	}
	ma, mb := digits.ReplaceAllString(ta, "#"), digits.ReplaceAllString(tb, "#")
	if ma != mb {
		t.Errorf("the texts differ beyond their digits:\n%s", firstDiff(ma, mb))
	}
	la, lb := strings.Split(ta, "\n"), strings.Split(tb, "\n")
	changed := 0
	for i := range la {
		if la[i] != lb[i] {
			changed++
		}
		if strings.HasPrefix(la[i], "Measured ") && la[i] == lb[i] {
			t.Errorf("the date and commit line did not change: %q", la[i])
		}
	}
	if changed < 100 {
		t.Errorf("only %d lines changed: the perturbation missed most figures", changed)
	}
}

// markNotRun rewrites the manifest under root so that the entries ids did
// not run, for reason.
func markNotRun(t *testing.T, root, reason string, ids ...string) {
	t.Helper()
	path := filepath.Join(root, "results", "suite", ManifestFile)
	m := &Manifest{}
	if err := readJSON(path, m); err != nil {
		t.Fatal(err)
	}
	for i, r := range m.Entries {
		for _, id := range ids {
			if r.ID == id {
				m.Entries[i] = Record{ID: id, NotRun: reason}
			}
		}
	}
	if err := writeJSON(path, m); err != nil {
		t.Fatal(err)
	}
}

func TestRenderNotRun(t *testing.T) {
	root := workCopy(t)
	markNotRun(t, root, "--quick", "ten-million", "plan", "find-max", "half-load")
	text := render(t, root)
	if n := strings.Count(text, "_Not run (--quick)._"); n != 4 {
		t.Errorf("%d entries say not run (--quick), want 4", n)
	}
	for _, want := range []string{
		"| bench sim, 10M sessions: ≤ 60 s wall, memory bounded by concurrent sessions | ten-million not run (--quick) | — |",
		"| delivery p99 at half the maximum sustainable load, loopback: < 1 ms | half-load not run (--quick) | — |",
		// The connections figures still judge the CPU row, which says
		// what is missing.
		"; find-max not run (--quick) | **not met",
		"bin/bench run smoke --rate RATE --out results/suite/half-load",
		"bin/bench sim ten-million --out results/suite/ten-million",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q", want)
		}
	}
	// Nothing of an entry that did not run is rendered as a figure.
	sec := section(text, "### Ten million sessions")
	if strings.Contains(sec, "|") {
		t.Errorf("ten-million renders a table though it did not run:\n%s", sec)
	}
}

// section returns the text from heading to the next heading.
func section(text, heading string) string {
	i := strings.Index(text, heading)
	if i < 0 {
		return ""
	}
	rest := text[i+len(heading):]
	if j := strings.Index(rest, "\n#"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// replaceOutput replaces entry id's stdout under root with the file src,
// edited by edit when it is not nil.
func replaceOutput(t *testing.T, root, id, src string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if edit != nil {
		text = edit(text)
	}
	if err := os.WriteFile(filepath.Join(root, "results", "suite", id, StdoutFile), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRenderNothingLost: the durability table and its §7 row, met and
// not met, and the crash test passed and failed.
func TestRenderNothingLost(t *testing.T) {
	const row = "| durability=sync throughput with group commit, against none: ≥ 50% | "
	text := render(t, workCopy(t))
	sec := section(text, "## Nothing lost: durability and crash recovery")
	for _, want := range []string{
		"### Durability: message throughput in memory, batch and sync (group commit)",
		"go test -run '^$' -bench '^BenchmarkDurability$' -benchtime 20000x -count 1 ./refserver/daemon",
		"go test -count=1 -run '^TestCrashRecovery$' -v ./refserver/daemon",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q", want)
		}
	}
	if !strings.Contains(sec, "**batch** writes them to disk") {
		t.Errorf("the section has not its introduction:\n%s", sec)
	}
	for _, want := range []string{
		row + "81.3% (sync 53,647 msgs/s, none 66,021) | met |",
		"| none | 66,021 | — | 13.5 µs | 13.5 µs | — | — |",
		"| sync | 53,647 | 81.3% | 20.5 µs | 12.0 µs | 4.46 | 111 µs |",
		"Test: pass.",
		"| customers with a message in flight at the kill | 20 of 20 |",
		"| kill to serving again | 73.0 ms |",
		"| acknowledged messages checked after the restart | 68,325 |",
		"| **acknowledged messages lost / stored twice / out of place** | **0 / 0 / 0** |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(text, "other errors") {
		t.Error("a test that passed shows errors")
	}

	// Three runs each: medians, ranges, and the ratio's range.
	root := workCopy(t)
	replaceOutput(t, root, "durability", durabilityOutput, nil)
	text = render(t, root)
	for _, want := range []string{
		row + "76.2% (sync 33,793 msgs/s, none 44,332, medians of 3 runs each; any run against any 55.9%–111.7%) | met |",
		"| none | 44,332 [30,479–54,618] | — | 12.0 µs [11.2 µs–12.2 µs] | 10.2 µs [9.60 µs–10.5 µs] | — | — |",
		"| sync | 33,793 [30,549–34,042] | 76.2% [55.9%–111.7%] | 18.8 µs [18.5 µs–19.1 µs] | 9.80 µs [9.70 µs–11.0 µs] | 21.9 [20.2–22.2] | 544 µs [530 µs–556 µs] |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q", want)
		}
	}

	// sync at a third of its throughput: under the floor.
	root = workCopy(t)
	replaceOutput(t, root, "durability", durabilityOutput, func(s string) string {
		lines := strings.Split(s, "\n")
		rate := regexp.MustCompile(`(\d+) msgs/s`)
		for i, l := range lines {
			if strings.Contains(l, "durability=sync") {
				lines[i] = rate.ReplaceAllStringFunc(l, func(m string) string {
					n, _ := strconv.Atoi(strings.Fields(m)[0])
					return strconv.Itoa(n/3) + " msgs/s"
				})
			}
		}
		return strings.Join(lines, "\n")
	})
	text = render(t, root)
	if want := row + "25.4% (sync 11,264 msgs/s, none 44,332, medians of 3 runs each; any run against any 18.6%–37.2%) | **not met: 2.0× under** |"; !strings.Contains(text, want) {
		t.Errorf("missing %q", want)
	}

	// The crash test failed: what it found, and its other errors.
	root = workCopy(t)
	replaceOutput(t, root, "crash", crashBatchOutput, nil)
	sec = section(render(t, root), "### Crash recovery: SIGKILL under load, restart on the same directory")
	for _, want := range []string{
		"Test: **FAIL**.",
		"| **acknowledged messages lost / stored twice / out of place** | **465 / 0 / 0** |",
		"| other errors | 1, the first: `crash-0: audit after seq 6268 of 6330: read frame: read tcp 127.0.0.1:40918->127.0.0.1:32943: i/o timeout` |",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("missing %q in\n%s", want, sec)
		}
	}

	// Not run: the row says so, the sections quote their commands.
	root = workCopy(t)
	markNotRun(t, root, "--skip", "durability", "crash")
	text = render(t, root)
	for _, want := range []string{
		row + "durability not run (--skip) | — |",
		"go test -run '^$' -bench '^BenchmarkDurability$' -benchtime 100000x -count 3 ./refserver/daemon",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q", want)
		}
	}
	for _, h := range []string{"### Durability: message throughput in memory, batch and sync (group commit)", "### Crash recovery: SIGKILL under load, restart on the same directory"} {
		if sec := section(text, h); !strings.Contains(sec, "_Not run (--skip)._") || strings.Contains(sec, "|") {
			t.Errorf("%s, not run:\n%s", h, sec)
		}
	}
}

func TestRenderMissingOutput(t *testing.T) {
	for _, c := range []struct{ entry, file string }{
		{"smoke", "smoke/result.json"},
		{"find-max", "find-max/step-02/result.json"},
		{"micro", "micro/stdout.txt"},
		{"durability", "durability/stdout.txt"},
		{"crash", "crash/stdout.txt"},
		{"plan", "plan/plan.json"},
		{"machine", "machine/machine.json"},
	} {
		root := workCopy(t)
		if err := os.Remove(filepath.Join(root, "results", "suite", c.file)); err != nil {
			t.Fatal(err)
		}
		_, err := Render(Standard(), Options{Root: root, Work: "results/suite"})
		if err == nil {
			t.Errorf("%s missing: no error", c.file)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "entry "+c.entry+":") || !strings.Contains(msg, filepath.Join("results", "suite", c.file)) {
			t.Errorf("%s missing: error %q names neither the entry nor the file", c.file, msg)
		}
	}

	root := t.TempDir()
	if _, err := Render(Standard(), Options{Root: root, Work: "results/suite"}); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), ManifestFile) {
		t.Errorf("no manifest: %v", err)
	}
}

// TestRenderKeptEntry: an entry kept from an earlier run says so.
func TestRenderKeptEntry(t *testing.T) {
	root := workCopy(t)
	path := filepath.Join(root, "results", "suite", ManifestFile)
	m := &Manifest{}
	if err := readJSON(path, m); err != nil {
		t.Fatal(err)
	}
	for i := range m.Entries {
		if m.Entries[i].ID == "smoke" {
			m.Entries[i].Start = m.Entries[i].Start.Add(-48 * time.Hour)
			m.Entries[i].Commit = "abc1234"
		}
	}
	if err := writeJSON(path, m); err != nil {
		t.Fatal(err)
	}
	sec := section(render(t, root), "### The smoke scenario")
	if !strings.Contains(sec, "_Kept from an earlier run (commit abc1234 with uncommitted changes, 2026-11-19)._") {
		t.Errorf("smoke section:\n%s", sec)
	}
}
