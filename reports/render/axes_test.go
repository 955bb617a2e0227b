package render

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/swarmdesk/swarmdesk/reports"
)

func TestFarApart(t *testing.T) {
	// withDelivery is the smoke fixture with delivery's median and p99
	// multiplied, or with no delivery at all for a factor of 0.
	withDelivery := func(p50, p99 float64) run {
		r := loadSmoke(t)
		l := r.Latency["delivery"]
		if p50 == 0 {
			l.Count = 0
		}
		l.P50Ms *= p50
		l.P99Ms *= p99
		r.Latency["delivery"] = l
		return run{label: "x", r: r}
	}
	tests := []struct {
		name string
		runs []run
		want bool
	}{
		{"one run", []run{withDelivery(1, 1)}, false},
		{"alike", []run{withDelivery(1, 1), withDelivery(1.5, 3)}, false},
		{"p99 9x apart", []run{withDelivery(1, 1), withDelivery(1, 9)}, false},
		{"p99 11x apart", []run{withDelivery(1, 1), withDelivery(1, 11)}, true},
		{"p50 11x apart", []run{withDelivery(1, 1), withDelivery(11, 1)}, true},
		{"apart through the third run", []run{withDelivery(1, 1), withDelivery(2, 2), withDelivery(1.0/20, 1)}, true},
		{"a run without the metric does not count", []run{withDelivery(1, 1), withDelivery(0, 100)}, false},
		{"zero against a millisecond", []run{withDelivery(1, 1), withDelivery(1e-9, 1e-9)}, true},
	}
	for _, tt := range tests {
		if got := farApart(tt.runs, "delivery"); got != tt.want {
			t.Errorf("%s: farApart = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLatencyAxis(t *testing.T) {
	tests := []struct {
		name      string
		ys        []float64
		log       bool
		wantLabel string
		wantYs    []float64
	}{
		{"milliseconds", []float64{0, 12, 900}, false, "latency (ms)", []float64{0, 12, 900}},
		{"seconds", []float64{0, 500, 64_659}, false, "latency (s)", []float64{0, 0.5, 64.659}},
		{"minutes", []float64{0, 60_000, 400_000}, false, "latency (min)", []float64{0, 1, 400_000.0 / 60_000}},
		// Log: log10s from the power of ten below the lowest value above
		// zero; a zero is drawn on that floor.
		{"log", []float64{0, 0.5, 100}, true, "latency (log scale)", []float64{-1, math.Log10(0.5), 2}},
		{"log floor at 1µs", []float64{1e-6, 1}, true, "latency (log scale)", []float64{-3, 0}},
		{"log of nothing", []float64{0, 0}, true, "latency (ms)", []float64{0, 0}},
	}
	for _, tt := range tests {
		var pts plotter.XYs
		for i, y := range tt.ys {
			pts = append(pts, plotter.XY{X: float64(i), Y: y})
		}
		s := chartSpec{lines: []lineSpec{{pts: pts}}}
		latencyAxis(&s, "latency", tt.log)
		if s.yLabel != tt.wantLabel {
			t.Errorf("%s: label %q, want %q", tt.name, s.yLabel, tt.wantLabel)
		}
		if s.yLog != strings.Contains(tt.wantLabel, "log") {
			t.Errorf("%s: yLog %v", tt.name, s.yLog)
		}
		for i, p := range s.lines[0].pts {
			if math.Abs(p.Y-tt.wantYs[i]) > 1e-9 {
				t.Errorf("%s: point %d at %g, want %g", tt.name, i, p.Y, tt.wantYs[i])
			}
		}
		if s.yLog && s.yMin != tt.wantYs[0] {
			t.Errorf("%s: floor %g, want %g", tt.name, s.yMin, tt.wantYs[0])
		}
	}
}

func TestLatencyLogTicks(t *testing.T) {
	var labels []string
	minor := 0
	for _, tick := range (latencyLogTicks{}).Ticks(-3, 4) {
		if tick.Label != "" {
			labels = append(labels, tick.Label)
		} else {
			minor++
		}
	}
	if want := []string{"1µs", "10µs", "100µs", "1ms", "10ms", "100ms", "1s", "10s"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if minor != 7*8 {
		t.Errorf("%d minor ticks, want 8 in each of 7 decades", minor)
	}
}

func TestTimeAxis(t *testing.T) {
	// played is a run of the smoke fixture that played scenario seconds in
	// wall seconds, or a bench sim result with sim.
	played := func(scenario, wall float64, sim bool) run {
		r := loadSmoke(t)
		r.ScenarioS, r.DurationS = scenario, wall
		if sim {
			r.Sim = &reports.Sim{SimulatedS: scenario, WallS: wall}
		}
		return run{label: "x", r: r}
	}
	tests := []struct {
		name      string
		runs      []run
		maxS      float64
		wantLabel string
		wantPer   float64
	}{
		{"timescale 30", []run{played(393.6, 13.12, false)}, 414, "scenario time (s), played 30× faster than wall time", 1},
		{"the same scale twice", []run{played(393.6, 13.12, false), played(367.3, 12.24, false)}, 414, "scenario time (s), played 30× faster than wall time", 1},
		{"real time", []run{played(60, 60, false)}, 60, "scenario time (s)", 1},
		{"different scales", []run{played(393.6, 13.12, false), played(60, 60, false)}, 414, "scenario time (s)", 1},
		{"older document", []run{played(0, 414, false)}, 414, "scenario time (s)", 1},
		{"simulated", []run{played(4122, 60, true)}, 4122, "simulated time (min)", 60},
		{"simulated and played", []run{played(4122, 60, true), played(393.6, 13.12, false)}, 4122, "scenario time (min)", 60},
	}
	for _, tt := range tests {
		label, per := timeAxis(tt.runs, tt.maxS)
		if label != tt.wantLabel || per != tt.wantPer {
			t.Errorf("%s: %q per %g, want %q per %g", tt.name, label, per, tt.wantLabel, tt.wantPer)
		}
	}
}

// TestLogScaleCharts overlays the smoke run with a copy whose network is
// 100 times slower: the network's latency charts turn to a log axis, the
// people's (whose runs are alike) stay linear, in seconds.
func TestLogScaleCharts(t *testing.T) {
	slow := loadSmoke(t)
	for name, l := range slow.Latency {
		if !slices.Contains(humanMetrics, name) {
			l.P50Ms *= 100
			l.P99Ms *= 100
			slow.Latency[name] = l
		}
	}
	rs, err := prepare([]Run{{Label: "fast", Result: loadSmoke(t)}, {Label: "slow", Result: slow}})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := chartSpecs(rs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		switch {
		case s.name == "latency-over-time" || s.group == "latency":
			if !s.yLog || s.yLabel != "latency p99 (log scale)" && s.yLabel != "latency (log scale)" {
				t.Errorf("%s: y axis %q (log %v), want a log scale", s.name, s.yLabel, s.yLog)
			}
		case s.name == "spectrum-queue_wait" || s.name == "queue-wait":
			if s.yLog || !strings.HasSuffix(s.yLabel, "(s)") {
				t.Errorf("%s: y axis %q (log %v), want linear in seconds", s.name, s.yLabel, s.yLog)
			}
		}
	}
	// And the log axis draws.
	var buf bytes.Buffer
	if err := HTML(&buf, []Run{{Label: "fast", Result: loadSmoke(t)}, {Label: "slow", Result: slow}}); err != nil {
		t.Fatal(err)
	}
}

// TestNoDataVerdict renders an objective that could not be judged: it
// reads NO DATA, styled apart from a FAIL, with the reason, and counts
// as not passing in the run's tally.
func TestNoDataVerdict(t *testing.T) {
	r := loadSmoke(t)
	for i := range r.Objectives {
		o := &r.Objectives[i]
		o.Unit = objectiveUnit(o.Expression)
		o.Samples = 197
		if o.Expression == "menu.p99 < 50ms" {
			o.Value, o.Samples, o.MinSamples, o.Pass = 2.48, 37, 100, false
			o.Insufficient = "too few samples: 37 menu values, and a p99 needs 100"
		}
	}
	var html, md bytes.Buffer
	runs := []Run{{Label: "smoke", Result: r}}
	if err := HTML(&html, runs); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, runs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<td>menu.p99 &lt; 50ms</td><td class="num words">2.48ms, too few samples: 37 menu values, and a p99 needs 100</td><td class="num">37</td><td class="nodata">NO DATA</td>`,
		`<td class="num">7.18ms</td><td class="num">197</td><td class="pass">PASS</td>`,
		`<td class="fail">8 pass, 1 no data</td>`,
	} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if want := "| menu.p99 < 50ms | 2.48ms, too few samples: 37 menu values, and a p99 needs 100 | 37 | ❌ NO DATA |\n"; !strings.Contains(md.String(), want) {
		t.Errorf("markdown lacks %q", want)
	}
}
