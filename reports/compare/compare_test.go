package compare

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/swarmdesk/swarmdesk/reports"
)

// rowOf returns the row of key, failing the test when there is none.
func rowOf(t *testing.T, rep *Report, key string) Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Metric == key {
			return r
		}
	}
	t.Fatalf("no row %s in %v", key, keys(rep))
	return Row{}
}

// keys lists the report's row keys.
func keys(rep *Report) []string {
	var k []string
	for _, r := range rep.Rows {
		k = append(k, r.Metric)
	}
	return k
}

var deliveryRows = []string{"delivery.p50", "delivery.p90", "delivery.p99"}

func TestCompare(t *testing.T) {
	withThreshold := DefaultOptions()
	withThreshold.Thresholds = map[string]float64{"delivery": 0.01}
	tests := []struct {
		name      string
		base, new func(t *testing.T) Set
		opt       Options
		// verdicts maps rows to the verdict they must have.
		verdicts map[string]string
		// suggests maps rows to what they must suggest, notes rows to a part
		// of their note.
		suggests, notes map[string]string
		// samples is what the delivery rows' samples must be.
		samples string
		// verdict is the report's verdict, by default regression when
		// regressed is set and no regression otherwise; reason, when set,
		// must be part of the report's reason.
		verdict, reason string
		regressed       bool
		// warning, when set, must be part of a warning; noWarning, when
		// set, of none.
		warning, noWarning string
	}{{
		name: "identical distributions, 5 runs each",
		base: func(t *testing.T) Set { return sideOf(t, "base", 5, 0, spec{draw: 1, intervals: 3, perInterval: 7000}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 5, 1, spec{draw: 101, intervals: 3, perInterval: 7000})
		},
		samples:   SamplesRuns,
		regressed: false,
	}, {
		name: "20% slower, 5 runs each",
		base: func(t *testing.T) Set { return sideOf(t, "base", 5, 0, spec{draw: 1, intervals: 3, perInterval: 7000}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 5, 1, spec{draw: 101, scale: 1.2, intervals: 3, perInterval: 7000})
		},
		verdicts: map[string]string{
			"delivery.p50": VerdictRegression, "delivery.p90": VerdictRegression, "delivery.p99": VerdictRegression,
			"messages.lost": VerdictUnchanged, "runs.invalid": VerdictUnchanged,
		},
		samples:   SamplesRuns,
		regressed: true,
	}, {
		name: "20% slower at a 0.1ms median: under the 0.1ms absolute floor",
		base: func(t *testing.T) Set {
			return sideOf(t, "base", 6, 0, spec{draw: 1, scale: 0.025, intervals: 2, perInterval: 300})
		},
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 6, 1, spec{draw: 101, scale: 0.03, intervals: 2, perInterval: 300})
		},
		verdicts:  map[string]string{"delivery.p50": VerdictUnderThreshold},
		samples:   SamplesRuns,
		regressed: false,
	}, {
		name: "20% slower at a 0.1ms median, no absolute floor: a regression",
		opt:  Options{Alpha: 0.05, MinChange: 0.05},
		base: func(t *testing.T) Set {
			return sideOf(t, "base", 6, 0, spec{draw: 1, scale: 0.025, intervals: 2, perInterval: 300})
		},
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 6, 1, spec{draw: 101, scale: 0.03, intervals: 2, perInterval: 300})
		},
		verdicts:  map[string]string{"delivery.p50": VerdictRegression},
		samples:   SamplesRuns,
		regressed: true,
	}, {
		name: "2% slower, significant but under the 5% minimum change",
		base: func(t *testing.T) Set {
			return sideOf(t, "base", 10, 0, spec{draw: 1, intervals: 2, perInterval: 30000})
		},
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 10, 1, spec{draw: 101, scale: 1.02, intervals: 2, perInterval: 30000})
		},
		verdicts: map[string]string{
			"delivery.p50": VerdictUnderThreshold, "delivery.p90": VerdictUnderThreshold, "delivery.p99": VerdictUnderThreshold,
		},
		samples:   SamplesRuns,
		regressed: false,
	}, {
		// At a 40ms median, so that 2% is beyond the 0.1ms floor too.
		name: "2% slower, beyond a 1% threshold for delivery",
		base: func(t *testing.T) Set {
			return sideOf(t, "base", 10, 0, spec{draw: 1, scale: 10, intervals: 2, perInterval: 30000})
		},
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 10, 1, spec{draw: 101, scale: 10.2, intervals: 2, perInterval: 30000})
		},
		opt: withThreshold,
		verdicts: map[string]string{
			"delivery.p50": VerdictRegression, "delivery.p90": VerdictRegression, "delivery.p99": VerdictRegression,
		},
		samples:   SamplesRuns,
		regressed: true,
	}, {
		name: "one run each, identical: inconclusive, never no regression",
		base: func(t *testing.T) Set { return sideOf(t, "base", 1, 0, spec{draw: 1, intervals: 30, perInterval: 600}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 1, 1, spec{draw: 1, intervals: 30, perInterval: 600})
		},
		verdicts: map[string]string{
			"delivery.p50": VerdictInconclusive, "server.cpu_seconds": VerdictInconclusive, "messages.lost": VerdictUnchanged,
		},
		suggests:  map[string]string{"delivery.p50": VerdictNotSignificant, "server.cpu_seconds": ""},
		notes:     map[string]string{"server.cpu_seconds": "1 base and 1 new runs; ≥4 a side needed"},
		samples:   SamplesIntervals,
		verdict:   VerdictInconclusive,
		reason:    "1 run in base and 1 run in new: a verdict needs at least 4 runs a side",
		regressed: false,
	}, {
		name: "one run each, 30 intervals of 200 values: the p99 is not even suggested",
		base: func(t *testing.T) Set { return sideOf(t, "base", 1, 0, spec{draw: 1, intervals: 30, perInterval: 200}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 1, 1, spec{draw: 101, scale: 1.2, intervals: 30, perInterval: 200})
		},
		verdicts: map[string]string{
			"delivery.p50": VerdictInconclusive, "delivery.p90": VerdictInconclusive, "delivery.p99": VerdictInconclusive,
		},
		suggests: map[string]string{
			"delivery.p50": VerdictRegression, "delivery.p90": VerdictRegression, "delivery.p99": "",
		},
		notes:     map[string]string{"delivery.p99": "0 base and 0 new intervals of ≥500 values, 5 above the p99; ≥4 a side needed"},
		samples:   SamplesIntervals,
		verdict:   VerdictInconclusive,
		regressed: false,
	}, {
		name: "three runs each, 20% slower: suggested, not judged",
		base: func(t *testing.T) Set { return sideOf(t, "base", 3, 0, spec{draw: 1, intervals: 10, perInterval: 600}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 3, 1, spec{draw: 101, scale: 1.2, intervals: 10, perInterval: 600})
		},
		verdicts: map[string]string{
			"delivery.p50": VerdictInconclusive, "delivery.p90": VerdictInconclusive, "delivery.p99": VerdictInconclusive,
			"server.cpu_seconds": VerdictInconclusive, "server.peak_rss_bytes": VerdictInconclusive,
			"generator.cpu_seconds": VerdictInconclusive,
		},
		suggests: map[string]string{
			"delivery.p50": VerdictRegression, "delivery.p90": VerdictRegression, "delivery.p99": VerdictRegression,
		},
		notes:     map[string]string{"delivery.p50": "intervals of fewer than 4 runs a side"},
		samples:   SamplesIntervals,
		verdict:   VerdictInconclusive,
		reason:    "3 runs in base and 3 runs in new",
		regressed: false,
	}, {
		name: "one run each, 3 intervals, 50% slower: too few samples even for a hint",
		base: func(t *testing.T) Set { return sideOf(t, "base", 1, 0, spec{draw: 1, intervals: 3, perInterval: 200}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 1, 1, spec{draw: 101, scale: 1.5, intervals: 3, perInterval: 200})
		},
		verdicts: map[string]string{
			"delivery.p50": VerdictInconclusive, "delivery.p90": VerdictInconclusive, "delivery.p99": VerdictInconclusive,
		},
		suggests:  map[string]string{"delivery.p50": "", "delivery.p90": "", "delivery.p99": ""},
		notes:     map[string]string{"delivery.p50": "3 base and 3 new intervals of ≥20 values; ≥4 a side needed"},
		samples:   SamplesIntervals,
		verdict:   VerdictInconclusive,
		regressed: false,
	}, {
		name: "intervals under the minimum count are left out",
		base: func(t *testing.T) Set { return sideOf(t, "base", 1, 0, spec{draw: 1, intervals: 30, perInterval: 10}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 1, 1, spec{draw: 101, scale: 1.5, intervals: 30, perInterval: 10})
		},
		verdicts:  map[string]string{"delivery.p50": VerdictInconclusive},
		notes:     map[string]string{"delivery.p50": "0 base and 0 new intervals of ≥20 values"},
		samples:   SamplesIntervals,
		verdict:   VerdictInconclusive,
		regressed: false,
	}, {
		name: "one run each, lost 0 to 3: a regression whatever the runs",
		base: func(t *testing.T) Set { return sideOf(t, "base", 1, 0, spec{draw: 1, intervals: 30, perInterval: 600}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 1, 1, spec{draw: 1, intervals: 30, perInterval: 600, lost: 3})
		},
		verdicts:  map[string]string{"messages.lost": VerdictRegression, "delivery.p50": VerdictInconclusive},
		samples:   SamplesIntervals,
		regressed: true,
	}, {
		name: "one run each, an invalid new run: a regression whatever the runs",
		base: func(t *testing.T) Set { return sideOf(t, "base", 1, 0, spec{draw: 1, intervals: 30, perInterval: 600}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 1, 1, spec{draw: 1, intervals: 30, perInterval: 600, invalid: "generator fell behind"})
		},
		verdicts:  map[string]string{"runs.invalid": VerdictRegression},
		samples:   SamplesIntervals,
		regressed: true,
	}, {
		name: "four runs each, a metric recorded in two new runs: not judged, named, no regression on the rest",
		base: func(t *testing.T) Set { return sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 10, perInterval: 600}) },
		new: func(t *testing.T) Set {
			s := sideOf(t, "new", 4, 1, spec{draw: 11, scale: 1.5, intervals: 10, perInterval: 600})
			s.Results[0].Latency, s.Results[1].Latency = nil, nil
			return s
		},
		verdicts: map[string]string{
			"delivery.p50": VerdictInconclusive, "server.cpu_seconds": VerdictNotSignificant,
		},
		suggests:  map[string]string{"delivery.p50": VerdictRegression},
		samples:   SamplesIntervals,
		verdict:   VerdictNoRegression,
		regressed: false,
		warning:   "latency delivery recorded in 2 of 4 new runs",
	}, {
		name: "lost 0 to 3 is a regression",
		base: func(t *testing.T) Set { return sideOf(t, "base", 5, 0, spec{draw: 1, intervals: 2, perInterval: 300}) },
		new: func(t *testing.T) Set {
			s := sideOf(t, "new", 5, 1, spec{draw: 1, intervals: 2, perInterval: 300})
			s.Results[2].Messages.Lost = 3
			return s
		},
		verdicts:  map[string]string{"messages.lost": VerdictRegression, "messages.duplicated": VerdictUnchanged},
		samples:   SamplesRuns,
		regressed: true,
	}, {
		name: "lost 2 to 0 is an improvement",
		base: func(t *testing.T) Set {
			return sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 2, perInterval: 300, lost: 2})
		},
		new:       func(t *testing.T) Set { return sideOf(t, "new", 4, 1, spec{draw: 1, intervals: 2, perInterval: 300}) },
		verdicts:  map[string]string{"messages.lost": VerdictImprovement},
		samples:   SamplesRuns,
		regressed: false,
	}, {
		name: "an invalid new run is a regression",
		base: func(t *testing.T) Set { return sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 2, perInterval: 300}) },
		new: func(t *testing.T) Set {
			s := sideOf(t, "new", 4, 1, spec{draw: 1, intervals: 2, perInterval: 300})
			s.Results[1].Invalidate("generator fell behind: 5% of actions late")
			return s
		},
		verdicts:  map[string]string{"runs.invalid": VerdictRegression},
		samples:   SamplesRuns,
		regressed: true,
		warning:   "new run 2 invalid: generator fell behind",
	}, {
		name: "an invalid base run is a warning only",
		base: func(t *testing.T) Set {
			s := sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 2, perInterval: 300})
			s.Results[0].Invalidate("generator fell behind")
			return s
		},
		new:       func(t *testing.T) Set { return sideOf(t, "new", 4, 1, spec{draw: 1, intervals: 2, perInterval: 300}) },
		verdicts:  map[string]string{"runs.invalid": VerdictUnchanged},
		samples:   SamplesRuns,
		regressed: false,
		warning:   "base run 1 invalid",
	}, {
		name: "different seeds warn",
		base: func(t *testing.T) Set { return sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 2, perInterval: 300}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 4, 1, spec{seed: 43, draw: 1, intervals: 2, perInterval: 300})
		},
		samples: SamplesRuns,
		warning: "seeds differ (base 42, new 43)",
	}, {
		name: "runs not interleaved warn",
		base: func(t *testing.T) Set { return sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 2, perInterval: 300}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 4, 100, spec{draw: 11, intervals: 2, perInterval: 300})
		},
		samples: SamplesRuns,
		warning: "do not overlap in time",
	}, {
		name: "runs of other scenario times warn",
		base: func(t *testing.T) Set { return sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 2, perInterval: 300}) },
		new: func(t *testing.T) Set {
			return sideOf(t, "new", 4, 1, spec{draw: 11, intervals: 3, perInterval: 300})
		},
		samples: SamplesRuns,
		warning: "runs play 2s of scenario time in base and 3s in new",
	}, {
		name: "runs of other wall times but the same scenario time do not warn",
		base: func(t *testing.T) Set { return sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 2, perInterval: 300}) },
		new: func(t *testing.T) Set {
			s := sideOf(t, "new", 4, 1, spec{draw: 11, intervals: 2, perInterval: 300})
			for _, r := range s.Results {
				r.DurationS *= 3 // a slow setup, a busy machine
			}
			return s
		},
		samples:   SamplesRuns,
		noWarning: "counts and CPU seconds are not comparable",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			if opt.Alpha == 0 {
				opt = DefaultOptions()
			}
			rep, err := Compare(tt.base(t), tt.new(t), opt)
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range tt.verdicts {
				if r := rowOf(t, rep, key); r.Verdict != want {
					t.Errorf("%s: verdict %q, want %q (%+v)", key, r.Verdict, want, r)
				}
			}
			for key, want := range tt.suggests {
				if r := rowOf(t, rep, key); r.Suggests != want {
					t.Errorf("%s: suggests %q, want %q (%+v)", key, r.Suggests, want, r)
				}
			}
			for key, want := range tt.notes {
				if r := rowOf(t, rep, key); !strings.Contains(r.Note, want) {
					t.Errorf("%s: note %q, want it to say %q", key, r.Note, want)
				}
			}
			verdict := tt.verdict
			if verdict == "" {
				verdict = VerdictNoRegression
				if tt.regressed {
					verdict = VerdictRegression
				}
			}
			if rep.Verdict != verdict || !strings.Contains(rep.Reason, tt.reason) {
				t.Errorf("verdict %q (%s), want %q (%s)", rep.Verdict, rep.Reason, verdict, tt.reason)
			}
			if (rep.Verdict == VerdictInconclusive) != (rep.Reason != "") {
				t.Errorf("verdict %q with reason %q: a reason is given when, and only when, inconclusive", rep.Verdict, rep.Reason)
			}
			for _, key := range deliveryRows {
				if r := rowOf(t, rep, key); r.Samples != tt.samples {
					t.Errorf("%s: samples %q, want %q", key, r.Samples, tt.samples)
				}
			}
			if got := rep.Regressed(); got != tt.regressed {
				t.Errorf("Regressed() = %v, want %v; rows:\n%s", got, tt.regressed, rowDump(rep))
			}
			if tt.warning != "" && !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, tt.warning) }) {
				t.Errorf("no warning with %q in %q", tt.warning, rep.Warnings)
			}
			if tt.noWarning != "" && slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, tt.noWarning) }) {
				t.Errorf("a warning with %q in %q", tt.noWarning, rep.Warnings)
			}
			n := map[string]int{}
			for _, r := range rep.Rows {
				n[r.Verdict]++
			}
			if n[VerdictRegression] != rep.Regressions || n[VerdictImprovement] != rep.Improvements || n[VerdictInconclusive] != rep.Inconclusive {
				t.Errorf("counted %d regressions, %d improvements, %d inconclusive; rows say %v",
					rep.Regressions, rep.Improvements, rep.Inconclusive, n)
			}
		})
	}
}

// rowDump lists the rows for a failure message.
func rowDump(rep *Report) string {
	var b strings.Builder
	for _, r := range rep.Rows {
		b.WriteString(r.Metric + " " + r.Verdict + "\n")
	}
	return b.String()
}

func TestCompareStatistics(t *testing.T) {
	base := sideOf(t, "base", 5, 0, spec{draw: 1, intervals: 3, perInterval: 7000})
	slow := sideOf(t, "new", 5, 1, spec{draw: 101, scale: 1.2, intervals: 3, perInterval: 7000})
	rep, err := Compare(base, slow, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	r := rowOf(t, rep, "delivery.p50")
	if r.Base.N != 5 || r.New.N != 5 {
		t.Errorf("n = %d, %d, want 5, 5", r.Base.N, r.New.N)
	}
	if r.Change < 0.15 || r.Change > 0.25 {
		t.Errorf("change %v, want about 0.2", r.Change)
	}
	if !r.Significant || r.P >= 0.05 {
		t.Errorf("p = %v, significant %v: want significant", r.P, r.Significant)
	}
	if r.Base.Center < 3.8 || r.Base.Center > 4.2 {
		t.Errorf("base median %v ms, want about 4", r.Base.Center)
	}
	if r.Unit != "ms" || r.Better != "lower" || r.Threshold != 0.05 {
		t.Errorf("unit %q, better %q, threshold %v", r.Unit, r.Better, r.Threshold)
	}
	// Latencies, then resources, then counts, each sorted.
	want := []string{
		"delivery.p50", "delivery.p90", "delivery.p99",
		"generator.cpu_seconds", "server.cpu_seconds", "server.peak_rss_bytes",
		"errors.total", "messages.duplicated", "messages.lost", "messages.reordered", "messages.unacked", "runs.invalid",
	}
	if got := keys(rep); !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if rep.Base.Runs != 5 || rep.New.Scenario != "smoke" || !slices.Equal(rep.Base.Seeds, []uint64{42}) {
		t.Errorf("sides %+v, %+v", rep.Base, rep.New)
	}
	if rep.Base.Start.IsZero() || !rep.Base.End.After(rep.Base.Start) {
		t.Errorf("base span %v to %v", rep.Base.Start, rep.Base.End)
	}
}

func TestCompareFilter(t *testing.T) {
	base := sideOf(t, "base", 4, 0, spec{draw: 1, intervals: 2, perInterval: 300})
	next := sideOf(t, "new", 4, 1, spec{draw: 11, intervals: 2, perInterval: 300})
	opt := DefaultOptions()
	opt.Metrics = []string{"delivery.p99", "server", "nope"}
	opt.Thresholds = map[string]float64{"delivery.p99": 0.1, "typo.p99": 0.1, "messages.lost": 0.5}
	rep, err := Compare(base, next, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"delivery.p99", "server.cpu_seconds", "server.peak_rss_bytes",
		"errors.total", "messages.duplicated", "messages.lost", "messages.reordered", "messages.unacked", "runs.invalid",
	}
	if got := keys(rep); !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if r := rowOf(t, rep, "delivery.p99"); r.Threshold != 0.1 {
		t.Errorf("delivery.p99 threshold %v, want 0.1", r.Threshold)
	}
	for _, w := range []string{"metric nope selected", "threshold typo.p99 matches no metric", "threshold messages.lost ignored"} {
		if !slices.ContainsFunc(rep.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning with %q in %q", w, rep.Warnings)
		}
	}
}

func TestCompareErrors(t *testing.T) {
	smoke := sideOf(t, "base", 2, 0, spec{draw: 1, intervals: 5, perInterval: 50})
	peak := sideOf(t, "new", 2, 1, spec{scenario: "peak", draw: 1, intervals: 5, perInterval: 50})
	mixed := sideOf(t, "mixed", 2, 1, spec{draw: 1, intervals: 5, perInterval: 50})
	mixed.Results[1].Scenario = "peak"
	shard := sideOf(t, "shard", 1, 1, spec{draw: 1, intervals: 5, perInterval: 50})
	shard.Results[0].Shard.Count = 2
	bad := DefaultOptions()
	bad.Alpha, bad.MinChange = 2, -1
	tests := []struct {
		name      string
		base, new Set
		opt       Options
		want      error
		text      string
	}{
		{"different scenarios", smoke, peak, DefaultOptions(), ErrScenario, `base base is of "smoke", new new of "peak"`},
		{"mixed scenarios in a side", smoke, mixed, DefaultOptions(), ErrScenario, "new run 2"},
		{"empty side", Set{}, smoke, DefaultOptions(), ErrEmpty, "base"},
		{"a shard", smoke, shard, DefaultOptions(), ErrNotRun, "merge the shards first"},
		{"bad options", smoke, smoke, bad, ErrOptions, "alpha 2 not in (0, 1); minimum change -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compare(tt.base, tt.new, tt.opt)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %v, want %v with %q", err, tt.want, tt.text)
			}
		})
	}
}

// TestCompareKinds: a simulation against a run is refused unless allowed,
// and then said loudly; other differences of kind (transport, machine,
// server) are listed in Mixed; values a result does not record (older
// results) are not differences.
func TestCompareKinds(t *testing.T) {
	twoCPU := &reports.Host{Name: "a", OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "EPYC", GoVersion: "go1.25"}
	sameKind := *twoCPU
	sameKind.Name = "b" // another runner of the same kind
	fourCPU := *twoCPU
	fourCPU.CPUs = 4
	side := func(label string, slot int, edit func(r *reports.Result)) Set {
		s := sideOf(t, label, 4, slot, spec{draw: 1 + uint64(slot), intervals: 2, perInterval: 300})
		for _, r := range s.Results {
			edit(r)
		}
		return s
	}
	sim := func(r *reports.Result) { r.Sim, r.Target = &reports.Sim{SimulatedS: 2}, "desk core, virtual time" }
	real := func(r *reports.Result) { r.Transport, r.Host = "tcp", twoCPU }
	allow := DefaultOptions()
	allow.AllowMixed = true
	tests := []struct {
		name      string
		base, new Set
		opt       Options
		// err, when set, is the error wanted, with text in it.
		err  error
		text string
		// mixed are parts of Mixed, one each, in order; warning is part of
		// a warning.
		mixed   []string
		warning string
	}{{
		name: "sim against run: refused",
		base: side("base", 0, sim), new: side("new", 1, real),
		err:  ErrMixed,
		text: "compare: sides of different kinds: base bench sim (virtual time), new bench run (real connections): a simulation",
	}, {
		name: "a side mixing sim and run: refused",
		base: side("base", 0, real),
		new: func() Set {
			s := side("new", 1, real)
			sim(s.Results[2])
			return s
		}(),
		err:  ErrMixed,
		text: "new bench run (real connections) and bench sim (virtual time)",
	}, {
		name: "sim against run, allowed: said first",
		base: side("base", 0, sim), new: side("new", 1, real), opt: allow,
		mixed: []string{"kinds differ: base bench sim (virtual time), new bench run (real connections)"},
	}, {
		name: "sim against sim: alike",
		base: side("base", 0, sim), new: side("new", 1, sim),
	}, {
		name: "run against run on one machine: alike",
		base: side("base", 0, real), new: side("new", 1, func(r *reports.Result) { real(r); r.Host = &sameKind }),
	}, {
		name:  "transports differ",
		base:  side("base", 0, real),
		new:   side("new", 1, func(r *reports.Result) { real(r); r.Transport = "http long polling" }),
		mixed: []string{"transports differ: base tcp, new http long polling: the verdict compares designs"},
	}, {
		name: "a transport unknown on one side (an older result): not a difference",
		base: side("base", 0, func(r *reports.Result) {}), new: side("new", 1, real),
		warning: "the base runs do not say which machine they ran on",
	}, {
		name:  "machines differ",
		base:  side("base", 0, real),
		new:   side("new", 1, func(r *reports.Result) { real(r); r.Host = &fourCPU }),
		mixed: []string{"machines differ: base run 1 against new run 1: cpus 2 against 4"},
	}, {
		name: "machines differ within a side, and servers",
		base: side("base", 0, real),
		new: func() Set {
			s := side("new", 1, func(r *reports.Result) { real(r); r.Target = "10.0.0.7:7400" })
			s.Results[3].Host = &fourCPU
			return s
		}(),
		mixed: []string{
			"servers differ: base embedded refserver, new 10.0.0.7",
			"machines differ: base run 1 against new run 4: cpus 2 against 4",
		},
	}, {
		name: "servers on loopback at other ports: alike",
		base: side("base", 0, func(r *reports.Result) { real(r); r.Target = "127.0.0.1:42231" }),
		new:  side("new", 1, func(r *reports.Result) { real(r); r.Target = "http://localhost:34707/poll" }),
	}, {
		name:  "embedded servers of other designs",
		base:  side("base", 0, func(r *reports.Result) { real(r); r.Target = "embedded refserver (gnet) 127.0.0.1:41000" }),
		new:   side("new", 1, func(r *reports.Result) { real(r); r.Target = "embedded refserver (netstd) 127.0.0.1:41002" }),
		mixed: []string{"server designs differ: base gnet, new netstd: the verdict compares designs"},
	}, {
		name: "an embedded server of a design against one that does not say (an older result): alike",
		base: side("base", 0, func(r *reports.Result) { real(r); r.Target = "embedded refserver 127.0.0.1:39211" }),
		new:  side("new", 1, func(r *reports.Result) { real(r); r.Target = "embedded refserver (gnet) 127.0.0.1:41002" }),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			if opt.Alpha == 0 {
				opt = DefaultOptions()
			}
			rep, err := Compare(tt.base, tt.new, opt)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("error %v, want %v with %q", err, tt.err, tt.text)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Mixed) != len(tt.mixed) {
				t.Fatalf("mixed %q, want %d parts: %q", rep.Mixed, len(tt.mixed), tt.mixed)
			}
			for i, want := range tt.mixed {
				if !strings.Contains(rep.Mixed[i], want) {
					t.Errorf("mixed[%d] = %q, want it to say %q", i, rep.Mixed[i], want)
				}
			}
			if tt.warning != "" && !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, tt.warning) }) {
				t.Errorf("no warning with %q in %q", tt.warning, rep.Warnings)
			}
			var md bytes.Buffer
			if err := rep.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			if loud := strings.Contains(md.String(), "**The two sides are not alike**"); loud != (len(tt.mixed) > 0) {
				t.Errorf("Markdown says the sides are not alike: %v, want %v:\n%s", loud, len(tt.mixed) > 0, md.String())
			}
		})
	}
}
