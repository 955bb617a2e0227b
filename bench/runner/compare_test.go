package runner

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/faultproxy"
	"github.com/swarmdesk/swarmdesk/reports"
	"github.com/swarmdesk/swarmdesk/reports/compare"
)

// TestCompareFlagsSlowdown is bench compare's acceptance test on real runs:
// the same scenario against a server whose frames reach the clients 50ms
// late (the base), again against the same setup, and against one 60ms late
// (a deliberate 20% delivery slowdown). Comparing base with the slow run
// must find a delivery regression; comparing it with the second run of the
// same setup must find none. One run per side, so the samples are the
// runs' per-interval percentiles.
func TestCompareFlagsSlowdown(t *testing.T) {
	if testing.Short() {
		t.Skip("three runs of seconds each")
	}
	const base = 50 * time.Millisecond
	play := func(label string, delay time.Duration) compare.Set {
		res, st := faultyRun(t, "compare.yaml", faultproxy.Config{Delay: delay}, Options{})
		if !res.Valid || st.Delayed == 0 {
			t.Fatalf("%s: valid %v %v, proxy %+v", label, res.Valid, res.InvalidReasons, st)
		}
		return compare.Set{Label: label, Results: []*reports.Result{res}}
	}
	// Interleaved, as a CI comparison should be: base, slow, same.
	a := play("base", base)
	slow := play("slow", base*6/5)
	same := play("same", base)

	verdict := func(name string, r *compare.Report) string {
		var md bytes.Buffer
		if err := r.Markdown(&md); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s", name, md.String())
		return md.String()
	}

	r, err := compare.Compare(a, slow, compare.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	verdict("base → 20% slower", r)
	if !r.Regressed() {
		t.Error("a 20% delivery slowdown was not flagged")
	}
	flagged := map[string]bool{}
	for _, row := range r.Rows {
		if strings.HasPrefix(row.Metric, "delivery.") && row.Verdict == compare.VerdictRegression {
			flagged[row.Metric] = true
			// The proxy adds 10ms to every frame, so every percentile
			// moves by about 10ms: +20% at the median (about 50ms), less
			// in the tail, whose base holds queueing as well. The median
			// is checked to that shift; a tail only for its direction,
			// since a single run's p99 varies by several ms on its own.
			shift := row.New.Center - row.Base.Center
			if row.Metric == "delivery.p50" && (shift < 5 || shift > 15) {
				t.Errorf("%s: moved %+.1fms (%+.1f%%), want about +10ms", row.Metric, shift, 100*row.Change)
			}
			if shift <= 0 {
				t.Errorf("%s: flagged as a regression but moved %+.1fms", row.Metric, shift)
			}
		}
	}
	if !flagged["delivery.p50"] {
		t.Errorf("delivery.p50 not flagged as a regression (flagged: %v)", flagged)
	}

	r, err = compare.Compare(a, same, compare.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	verdict("base → same build", r)
	if r.Regressed() {
		t.Error("two runs of the same setup were judged a regression")
	}
}
