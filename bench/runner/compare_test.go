package runner

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/faultproxy"
	"github.com/swarmdesk/swarmdesk/reports"
	"github.com/swarmdesk/swarmdesk/reports/compare"
)

// TestCompareRealRuns is bench compare over results the runner wrote: one
// run against a server whose frames reach the clients 50ms late (the base),
// one 60ms late (a 20% delivery slowdown). It asserts only what the code
// controls, never how fast this machine was: one run a side is
// inconclusive, whatever the runs show (it once said "regression" or "no
// regression" from them, and a busy machine flipped the answer); the
// per-interval rows carry each side's own values, which the proxy's delay
// bounds from below; two runs on this machine, transport and server are of
// one kind; the same run passed off as a simulation is refused.
func TestCompareRealRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("two runs of seconds each")
	}
	const base, slow = 50 * time.Millisecond, 60 * time.Millisecond
	play := func(label string, delay time.Duration) compare.Set {
		dir := t.TempDir()
		res, st := faultyRun(t, "compare.yaml", faultproxy.Config{Delay: delay}, Options{OutDir: dir})
		if !res.Valid || st.Delayed == 0 {
			t.Fatalf("%s: valid %v %v, proxy %+v", label, res.Valid, res.InvalidReasons, st)
		}
		// Every delivery crossed the proxy: the run's own floor.
		if p50 := res.Latency["delivery"].P50Ms; p50 < ms(delay) {
			t.Fatalf("%s: delivery p50 %.1fms under the proxy's %v", label, p50, delay)
		}
		// From the file the runner wrote, as bench compare reads it.
		set, err := compare.Load(filepath.Join(dir, ResultFile))
		if err != nil {
			t.Fatal(err)
		}
		set.Label = label
		return set
	}
	// Interleaved, as a CI comparison should be.
	a := play("base", base)
	b := play("slow", slow)

	r, err := compare.Compare(a, b, compare.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	t.Logf("base → 20%% slower:\n%s", md.String())
	if r.Verdict != compare.VerdictInconclusive || r.Regressed() || !strings.Contains(r.Reason, "at least 4 runs a side") {
		t.Errorf("one run a side: verdict %q (%s), want inconclusive, asking for 4 runs a side", r.Verdict, r.Reason)
	}
	if !strings.Contains(md.String(), "**inconclusive**") || strings.Contains(md.String(), "no regression") {
		t.Error("the Markdown verdict is not inconclusive")
	}
	if len(r.Mixed) != 0 {
		t.Errorf("two runs on one machine, transport and server called unlike: %q", r.Mixed)
	}
	for _, row := range r.Rows {
		if !strings.HasPrefix(row.Metric, "delivery.") {
			continue
		}
		if row.Samples != compare.SamplesIntervals || row.Verdict != compare.VerdictInconclusive {
			t.Errorf("%s: samples %q, verdict %q; want intervals, inconclusive", row.Metric, row.Samples, row.Verdict)
		}
		// Each interval's percentile is at least the proxy's delay, so is
		// their median; 1% for the histogram's precision.
		if row.Base.N > 0 && row.Base.Center < 0.99*ms(base) || row.New.N > 0 && row.New.Center < 0.99*ms(slow) {
			t.Errorf("%s: base %.1fms, new %.1fms: under the proxy's %v and %v", row.Metric, row.Base.Center, row.New.Center, base, slow)
		}
	}

	// The same real run, passed off as a simulation, is refused unless
	// allowed, and then said.
	simulated := *b.Results[0]
	simulated.Sim = &reports.Sim{SimulatedS: simulated.ScenarioSeconds()}
	sim := compare.Set{Label: "sim", Results: []*reports.Result{&simulated}}
	if _, err := compare.Compare(a, sim, compare.DefaultOptions()); !errors.Is(err, compare.ErrMixed) {
		t.Errorf("a run against a simulation: error %v, want %v", err, compare.ErrMixed)
	}
	opt := compare.DefaultOptions()
	opt.AllowMixed = true
	r, err = compare.Compare(a, sim, opt)
	if err != nil {
		t.Fatalf("a run against a simulation, allowed: %v", err)
	}
	if len(r.Mixed) == 0 || !strings.Contains(r.Mixed[0], "bench sim") {
		t.Errorf("a run against a simulation, allowed: mixed %q", r.Mixed)
	}
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
