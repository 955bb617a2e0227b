package compare

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// regressionReport compares 6 runs with 6 runs 20% slower, one of them
// losing 3 messages, with a 10% threshold for delivery.p99.
func regressionReport(t *testing.T) *Report {
	t.Helper()
	base := sideOf(t, "runs/base", 6, 0, spec{draw: 1, intervals: 3, perInterval: 7000})
	next := sideOf(t, "runs/new", 6, 1, spec{draw: 101, scale: 1.2, intervals: 3, perInterval: 7000})
	next.Results[3].Messages.Lost = 3
	opt := DefaultOptions()
	opt.Thresholds = map[string]float64{"delivery.p99": 0.1}
	rep, err := Compare(base, next, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestMarkdown(t *testing.T) {
	rep := regressionReport(t)
	var b bytes.Buffer
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"**regression**: 4 metrics worse beyond noise",
		"| `delivery.p99` |",
		"❌ regression |",
		"| `messages.lost` | 0 (6 runs) | 3 in total (6 runs) | — | — | ❌ regression (was 0) |",
		"minimum change 5% (delivery.p99 10%)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	golden := filepath.Join("testdata", "regression.golden.md")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if md != string(want) {
		t.Errorf("Markdown differs from %s (go test -update to refresh):\n%s", golden, md)
	}
}

func TestMarkdownNoRegression(t *testing.T) {
	base := sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 2, perInterval: 300})
	next := sideOf(t, "new", 4, 1, spec{draw: 1, intervals: 2, perInterval: 300, lost: 0})
	base.Results[0].Messages.Lost = 1
	rep, err := Compare(base, next, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	if md := b.String(); !strings.Contains(md, "✅ **no regression**; 1 metric better beyond noise: `messages.lost`") {
		t.Errorf("Markdown:\n%s", md)
	}
}

// TestMarkdownVerdicts: the verdict line says inconclusive, never "no
// regression", when a side has too few runs, and names what was not judged
// when the rest was.
func TestMarkdownVerdicts(t *testing.T) {
	oneRun := func(label string, slot int, scale float64) Set {
		return sideOf(t, label, 1, slot, spec{draw: 1 + uint64(slot), scale: scale, intervals: 30, perInterval: 600})
	}
	partial := sideOf(t, "new", 4, 1, spec{draw: 11, intervals: 10, perInterval: 600})
	partial.Results[0].Latency, partial.Results[1].Latency = nil, nil
	tests := []struct {
		name      string
		base, new Set
		want      []string
		not       []string
	}{{
		name: "one run a side, 20% slower",
		base: oneRun("base", 0, 1), new: oneRun("new", 1, 1.2),
		want: []string{
			"⚠️ **inconclusive**: 1 run in base and 1 run in new: a verdict needs at least 4 runs a side",
			"Per interval (weak evidence), worse: `delivery.p50`, `delivery.p90`, `delivery.p99`\n",
			"| ⚠️ inconclusive, suggests regression (intervals of fewer than 4 runs a side) |",
			"± ∞ (1 run) |",
			"| ⚠️ inconclusive (1 base and 1 new runs; ≥4 a side needed) |",
		},
		not: []string{"no regression", "❌"},
	}, {
		name: "four runs a side, delivery in two new runs",
		base: sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 10, perInterval: 600}), new: partial,
		want: []string{
			"✅ **no regression**; 3 metrics not judged (too few samples): `delivery.p50`, `delivery.p90`, `delivery.p99`\n",
		},
		not: []string{"inconclusive**"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := mustCompare(t, tt.base, tt.new).Markdown(&b); err != nil {
				t.Fatal(err)
			}
			md := b.String()
			for _, w := range tt.want {
				if !strings.Contains(md, strings.ReplaceAll(w, `\n`, "\n")) {
					t.Errorf("Markdown lacks %q:\n%s", w, md)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(md, w) {
					t.Errorf("Markdown has %q:\n%s", w, md)
				}
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, rep := range []*Report{
		regressionReport(t),
		// Five runs: confidence bounds are infinite, written as null.
		mustCompare(t, sideOf(t, "a", 5, 0, spec{draw: 1, intervals: 10, perInterval: 100}),
			sideOf(t, "b", 5, 1, spec{draw: 11, intervals: 10, perInterval: 100})),
	} {
		var b bytes.Buffer
		if err := rep.JSON(&b); err != nil {
			t.Fatal(err)
		}
		var got Report
		dec := json.NewDecoder(&b)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, rep) {
			t.Errorf("JSON round trip differs:\n got %+v\nwant %+v", got, *rep)
		}
	}
}

func TestStatJSON(t *testing.T) {
	s := Stat{Center: 1.5, Lo: math.Inf(-1), Hi: 2, N: 5}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"center":1.5,"lo":null,"hi":2,"n":5}`; string(data) != want {
		t.Errorf("got %s, want %s", data, want)
	}
	var back Stat
	if err := json.Unmarshal(data, &back); err != nil || back != s {
		t.Errorf("back %+v, %v", back, err)
	}
}

// mustCompare compares with the default options, failing the test on error.
func mustCompare(t *testing.T, base, next Set) *Report {
	t.Helper()
	rep, err := Compare(base, next, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
