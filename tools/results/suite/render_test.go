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
	"sync"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/tools/floor/floor"
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

// fixtureText is the fixture's rendering, made once for the tests that
// read it unchanged.
var fixtureText = sync.OnceValues(func() (string, error) {
	root, err := os.MkdirTemp("", "suite-fixture-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(root)
	if err := os.CopyFS(filepath.Join(root, "results", "suite"), os.DirFS(fixture)); err != nil {
		return "", err
	}
	b, err := Render(Standard(), Options{Root: root, Work: filepath.Join("results", "suite")})
	return string(b), err
})

// renderFixture returns the fixture's rendering.
func renderFixture(t *testing.T) string {
	t.Helper()
	text, err := fixtureText()
	if err != nil {
		t.Fatal(err)
	}
	return text
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
	got := renderFixture(t)
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
	b := workCopy(t)
	perturb(t, b)
	ta, tb := renderFixture(t), render(t, b)
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
	text := renderFixture(t)
	sec := section(text, "## Nothing lost: durability, crash recovery, soak")
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

// editJSON edits the JSON document rel of the work directory under root.
func editJSON(t *testing.T, root, rel string, edit func(doc map[string]any)) {
	t.Helper()
	path := filepath.Join(root, "results", "suite", rel)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	doc := map[string]any{}
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	if b, err = json.MarshalIndent(doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// obj is the JSON object at key of doc.
func obj(doc map[string]any, key string) map[string]any { return doc[key].(map[string]any) }

// item is the JSON object at index i of the array at key of doc.
func item(doc map[string]any, key string, i int) map[string]any {
	return doc[key].([]any)[i].(map[string]any)
}

const (
	chaosHeading = "### Crash test with the whole bench: the server killed under a scenario"
	soakHeading  = "### Soak: 10 minutes of steady load"
)

// TestRenderChaosAndSoak: the chaos run and the soak in the Nothing lost
// section, passed and failed, and not run; neither is a §7 row.
func TestRenderChaosAndSoak(t *testing.T) {
	text := renderFixture(t)
	if i, j := strings.Index(text, "## Nothing lost"), strings.Index(text, chaosHeading); i < 0 || j < i || strings.Index(text, soakHeading) < j ||
		strings.Index(text, "## bench sim and bench plan") < strings.Index(text, soakHeading) {
		t.Errorf("chaos and soak are not in order in the Nothing lost section")
	}
	if sec := section(text, "## Against DESIGN.md §7"); strings.Contains(sec, "chaos") || strings.Contains(sec, "soak") || strings.Count(sec, "\n| ") != 10 {
		t.Errorf("the §7 table changed:\n%s", sec)
	}
	sec := section(text, chaosHeading)
	for _, want := range []string{
		"\nbin/bench run chaos --chaos kill-server:5s --durability sync --duration 5m --out results/suite/chaos\n",
		"\nCrash test: passed: no message lost, none duplicated, none out of order.\n",
		"| kills (SIGKILL, then a restart on the same data directory and address) | 5, every 5.00 s, durability sync |",
		"| messages in flight at the kills (sent, not yet acknowledged) | 0 in all, at most 0 at one kill |",
		"| connections open at a kill, at most | 96 |",
		"| kill to the server serving again, median / max | 52.9 ms / 68.2 ms |",
		"| kill to every dropped client back, median / max | 399 ms / 779 ms |",
		"| connections dropped; redials | 412 dropped; 635 redials, 226 failed (server down), 412 resumed |",
		"| messages | 1,521 sent, 2,885 delivered |",
		"| **lost / duplicated / reordered / unacked** | **0 / 0 / 0 / 0** |",
		"| delivery p50 / p99 / max, outages included | 1.32 ms / 85.2 ms / 345 ms |",
		"| server, over its incarnations | 1.25 CPU-s, peak RSS 90.5 MiB |",
		"\nRun valid. Objectives met: 6 of 6.\n",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("missing %q in\n%s", want, sec)
		}
	}
	sec = section(text, soakHeading)
	for _, want := range []string{
		"\ngo run ./tools/soak --duration 10m --out results/suite/soak\n",
		"\nSoak: passed: no growth in memory, goroutines or descriptors over 10 minutes at a median of 58 connections, judged after 2 minutes of warm-up.\n",
		"| RSS | 36.4 MiB | 40.9 MiB | 36.4 MiB–40.9 MiB | +3.54 MiB | 8.00 MiB | pass |",
		"| goroutines | 14 | 14 | 14–15 | +0.6 | max − median 0 (limit 10.3); last minute − first 0.9 (limit 10.3) | pass |",
		"| open fds | 91 | 87 | 65–92 | +1.0 | 20.0 | pass |",
		"| connections | 73 | 69 | 46–73 | -0.1 | — | — |",
		"The load: 20,528 sessions (36.0 customers arriving a second), 91,582 messages sent and 46,415 delivered; 0 lost, 0 duplicated, 0 reordered, 0 unacked. Server CPU 3.5% of a core. bench's run valid. Objectives met: 6 of 6.",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("missing %q in\n%s", want, sec)
		}
	}
	if strings.Contains(sec, "threads") || strings.Contains(sec, "heap goal") {
		t.Errorf("the soak shows series neither judged nor chosen:\n%s", sec)
	}

	// The crash test failed: messages lost and duplicated, clients not
	// back after a kill; the objectives say so too.
	root := workCopy(t)
	editJSON(t, root, "chaos/result.json", func(doc map[string]any) {
		m := obj(doc, "messages")
		m["lost"], m["duplicated"] = 3, 2
		for i, v := range []int{3, 2} {
			o := item(doc, "objectives", i)
			o["value"], o["pass"] = v, false
		}
		ch := obj(doc, "chaos")
		ch["not_resumed"], ch["max_clients_resumed_s"] = 1, 0.423965968
		k := item(ch, "kills", 1)
		k["resumed"] = false
		delete(k, "clients_resumed_s")
	})
	sec = section(render(t, root), chaosHeading)
	for _, want := range []string{
		"\nCrash test: **failed**: 3 messages lost, 2 duplicated, 0 reordered, 0 never acknowledged.\n",
		"| **lost / duplicated / reordered / unacked** | **3 / 2 / 0 / 0** |",
		"| kill to every dropped client back, median / max | 374 ms / 424 ms; **kills after which not all came back: 1** |",
		"Objectives met: 4 of 6; **failed** `lost == 0` (measured 3.00); **failed** `duplicated == 0` (measured 2.00).",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("missing %q in\n%s", want, sec)
		}
	}

	// The soak failed: RSS grew beyond its limit.
	root = workCopy(t)
	const reason = "rss_bytes slope: growth 12.00 MiB per 10m (least squares over 49 samples) against max(5% of mean 39.67 MiB, 8.00 MiB) = 8.00 MiB"
	editJSON(t, root, "soak/soak.json", func(doc map[string]any) {
		obj(item(doc, "series", 0), "steady")["slope_per_10m"] = 12 << 20
		v := item(doc, "verdicts", 0)
		v["measured"], v["pass"] = 12<<20, false
		doc["growth"], doc["pass"], doc["exit_code"], doc["reasons"] = true, false, 1, []string{reason}
	})
	sec = section(render(t, root), soakHeading)
	for _, want := range []string{
		"\nSoak: **failed**: " + reason + ".\n",
		"| RSS | 36.4 MiB | 40.9 MiB | 36.4 MiB–40.9 MiB | +12.0 MiB | 8.00 MiB | **FAIL** |",
		"| heap in use | 9.95 MiB | 12.9 MiB | 9.95 MiB–14.4 MiB | +2.68 MiB | 8.00 MiB | pass |",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("missing %q in\n%s", want, sec)
		}
	}

	// Not run: the standard commands, no figures.
	root = workCopy(t)
	markNotRun(t, root, "--quick", "chaos", "soak")
	text = render(t, root)
	for h, cmd := range map[string]string{
		chaosHeading: "bin/bench run chaos --chaos kill-server:10s --durability sync --duration 20m --out results/suite/chaos",
		soakHeading:  "go run ./tools/soak --duration 10m --out results/suite/soak",
	} {
		if sec := section(text, h); !strings.Contains(sec, "\n"+cmd+"\n") || !strings.Contains(sec, "_Not run (--quick)._") || strings.Contains(sec, "|") {
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
		{"chaos", "chaos/result.json"},
		{"soak", "soak/soak.json"},
		{"floor", "floor/floor.json"},
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

// editFloor rewrites the floor entry's report under root with edit.
func editFloor(t *testing.T, root string, edit func(r *floor.Result)) {
	t.Helper()
	path := filepath.Join(root, "results", "suite", "floor", FloorFile)
	r := &floor.Result{}
	if err := readJSON(path, r); err != nil {
		t.Fatal(err)
	}
	edit(r)
	if err := writeJSON(path, r); err != nil {
		t.Fatal(err)
	}
}

// TestRenderFloor: the floor's section, and the §7 CPU row judging bench's
// connections ratio against the bare pair's beside it.
func TestRenderFloor(t *testing.T) {
	const (
		heading = "### A bare client and server: the floor under connections"
		row     = "| bench CPU per message compared with the server's: find-max steps: lower than the server's; connections: no higher than a bare client/server pair's beside it (floor) | "
	)
	text := renderFixture(t)
	sec := section(text, heading)
	for _, want := range []string{
		"\ngo run ./tools/floor --conns 1000 --json results/suite/floor/floor.json\n",
		"| **CPU, both** | **0.0300 CPU-s** | **0.0200 CPU-s** |",
		"| peak RSS, and its growth per connection | 5.07 MiB, 578 B | 5.12 MiB, 479 B |",
		"Connections held: 1,000 of 1,000 asked; 0 errors; the server answered 1,000 hellos.",
		"**Client CPU over the server's: 1.50×** (connect phase 1.50×); bench's over the server's on `connections` above: 2.55×.",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("missing %q in\n%s", want, sec)
		}
	}
	// The fixture's bench ratio (2.55×) is over the pair's (1.50×).
	if want := row + "connections: bench 2.55× (0.280 CPU-s against 0.110 CPU-s), a bare client/server pair beside it 1.50× (0.0300 CPU-s against 0.0200 CPU-s); find-max steps: generator over server CPU 2.2×–2.4× | **not met: connections 1.7× over the bare pair's; find-max 2.4× over** |"; !strings.Contains(text, want) {
		t.Errorf("missing %q", want)
	}

	// A pair dearer than bench: connections is met, and with find-max
	// not run, so is the row. Capped and failed connections are said.
	root := workCopy(t)
	editFloor(t, root, func(r *floor.Result) {
		r.Client.CPUS, r.CPURatio = 0.06, 3
		r.Requested, r.Tried, r.Connections, r.Errors, r.FirstError = 20000, 18744, 18743, 1, "connect: connection refused"
		r.Capped = "RLIMIT_NOFILE 20000 allows 18744 connections per process"
	})
	markNotRun(t, root, "--quick", "find-max", "half-load")
	text = render(t, root)
	if want := row + "connections: bench 2.55× (0.280 CPU-s against 0.110 CPU-s), a bare client/server pair beside it 3.00× (0.0600 CPU-s against 0.0200 CPU-s); find-max not run (--quick) | met |"; !strings.Contains(text, want) {
		t.Errorf("missing %q", want)
	}
	if want := "Connections held: 18,743 of 20,000 asked (capped to 18,744: RLIMIT_NOFILE 20000 allows 18744 connections per process); 1 errors, the first: `connect: connection refused`;"; !strings.Contains(section(text, heading), want) {
		t.Errorf("missing %q in\n%s", want, section(text, heading))
	}

	// Only find-max judges when the floor did not run; nothing judges when
	// neither did, and connections alone is shown unjudged.
	root = workCopy(t)
	markNotRun(t, root, "--quick", "floor")
	text = render(t, root)
	if want := row + "connections: bench 2.55× (0.280 CPU-s against 0.110 CPU-s), floor not run (--quick); find-max steps: generator over server CPU 2.2×–2.4× | **not met: find-max 2.4× over** |"; !strings.Contains(text, want) {
		t.Errorf("missing %q", want)
	}
	if sec := section(text, heading); !strings.Contains(sec, "_Not run (--quick)._") || strings.Contains(sec, "|") {
		t.Errorf("floor, not run:\n%s", sec)
	}
	markNotRun(t, root, "--quick", "find-max", "half-load")
	if want := row + "connections: bench 2.55× (0.280 CPU-s against 0.110 CPU-s), floor not run (--quick); find-max not run (--quick) | — |"; !strings.Contains(render(t, root), want) {
		t.Errorf("missing %q", want)
	}
	markNotRun(t, root, "--quick", "connections")
	if want := row + "connections not run (--quick); floor not run (--quick); find-max not run (--quick) | — |"; !strings.Contains(render(t, root), want) {
		t.Errorf("missing %q", want)
	}

	// The pair without connections: shown, not judged.
	root = workCopy(t)
	markNotRun(t, root, "--quick", "connections", "find-max", "half-load")
	if want := row + "connections not run (--quick), a bare client/server pair beside it 1.50× (0.0300 CPU-s against 0.0200 CPU-s); find-max not run (--quick) | — |"; !strings.Contains(render(t, root), want) {
		t.Errorf("missing %q", want)
	}
}
