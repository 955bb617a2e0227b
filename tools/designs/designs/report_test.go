package designs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doc is a comparison where gnet wins memory, netstd wins CPU, and both
// carry the same load.
func testDoc() *Document {
	idle := func(b float64) *Idle {
		return &Idle{Points: []IdlePoint{{Conns: 1000, BytesPerConn: b}}, SlopeBytesPerConn: b, RequestsPerClientHour: 240, BroadcastAllMs: 50, BroadcastHalfMs: 25}
	}
	load := func(cpu float64) *Load {
		return &Load{Delivered: 1000, CPUPer1000: cpu, P50Ms: 1, P99Ms: 2, P999Ms: 3, RawP99Ms: 1, BytesPerDelivered: 500, Pass: true}
	}
	return &Document{Schema: Schema, Sizes: []int{1000}, Rate: 8, Results: []Result{
		{Design: "gnet", Text: "event loops", Commit: "abc", Idle: idle(900), Load: load(0.5), FindMax: &FindMax{Best: 64}},
		{Design: "netstd", Text: "goroutines", Commit: "abc", Idle: idle(13000), Load: load(0.25), FindMax: &FindMax{Best: 64}},
	}}
}

func TestVerdicts(t *testing.T) {
	got := map[string]Verdict{}
	for _, v := range Verdicts(testDoc()) {
		got[v.Row] = v
	}
	if v := got["memory-1000"]; !v.Ahead || v.Best != "gnet" {
		t.Errorf("memory: %+v, want gnet ahead", v)
	}
	if v := got["cpu"]; v.Ahead || v.Level || v.Best != "netstd" || v.Ratio != 2 {
		t.Errorf("cpu: %+v, want netstd ahead, gnet at 2x", v)
	}
	if v := got["find-max"]; v.Ahead || !v.Level {
		t.Errorf("find-max: %+v, want level", v)
	}
}

func TestMarkdownAndSplice(t *testing.T) {
	var md bytes.Buffer
	if err := Markdown(&md, testDoc(), "make compare-designs"); err != nil {
		t.Fatal(err)
	}
	s := md.String()
	for _, want := range []string{"at commit `abc`", "| gnet | netstd |", "13,000 B", "**netstd is ahead**; gnet's figure is 2.00× the best", why["cpu"]} {
		if !strings.Contains(s, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, s)
		}
	}
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(path, []byte("# R\n\n"+BeginMarker+"\nold\n"+EndMarker+"\n\n## after\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Splice(path, "Designs", "new\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "# R\n\n" + BeginMarker + "\nnew\n" + EndMarker + "\n\n## after\n"; string(b) != want {
		t.Errorf("spliced:\n%s\nwant:\n%s", b, want)
	}
}

func TestMergeAndSizes(t *testing.T) {
	kept := []Result{{Design: "gnet", Commit: "old"}, {Design: "poll-long", Commit: "old"}}
	got := merge(kept, []Result{{Design: "poll-long", Commit: "new"}, {Design: "netstd", Commit: "new"}})
	var names []string
	for _, r := range got {
		names = append(names, r.Design+"@"+r.Commit)
	}
	if strings.Join(names, " ") != "gnet@old netstd@new poll-long@new" {
		t.Errorf("merged %v", names)
	}
	if s := DefaultSizes(20000); len(s) != 3 || s[0] != 1000 || s[1] != 3000 || s[2] != 9000 {
		t.Errorf("DefaultSizes(20000) = %v", s)
	}
}
