package render

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/swarmdesk/swarmdesk/reports"
)

// The axes say what they measure. Latencies are drawn in the unit that
// suits them (milliseconds for the network, seconds or minutes for people),
// on a log scale when overlaid runs are too far apart for a linear one.
// Time series run on the recorder's clock, which is scenario time.

const (
	// logSpread is how far apart, as a ratio, the runs overlaid on a
	// latency chart must be (their medians or their p99s) for the chart to
	// use a log axis: on a linear one the slowest would flatten the others.
	logSpread = 10
	// minLatencyMs is the lowest floor of a log latency axis: 1µs, the
	// lowest value the histograms tell apart. A zero is drawn on the floor.
	minLatencyMs = 0.001
)

// farApart reports whether the runs' medians, or their p99s, of one of the
// metrics differ by more than logSpread (a run that recorded nothing of a
// metric does not count).
func farApart(runs []run, metrics ...string) bool {
	for _, m := range metrics {
		for _, stat := range []func(reports.Summary) float64{
			func(s reports.Summary) float64 { return s.P50Ms },
			func(s reports.Summary) float64 { return s.P99Ms },
		} {
			lo, hi, n := math.Inf(1), 0.0, 0
			for _, r := range runs {
				l, ok := r.r.Latency[m]
				if !ok || l.Count == 0 {
					continue
				}
				v := max(stat(l.Summary), minLatencyMs)
				lo, hi, n = min(lo, v), max(hi, v), n+1
			}
			if n > 1 && hi > logSpread*lo {
				return true
			}
		}
	}
	return false
}

// latencyAxis sets the y axis of a chart whose lines are latencies in
// milliseconds. With log, the axis is logarithmic from the power of ten
// below the lowest value, each power of ten labelled in its own unit
// (latencyLabel); otherwise linear, in the unit that suits the highest
// value (latencyUnit). The lines are rescaled to the axis, and its label
// says which: "latency (ms)", "queue wait (s)", "latency (log scale)".
func latencyAxis(s *chartSpec, what string, log bool) {
	lo, hi := math.Inf(1), 0.0
	for _, l := range s.lines {
		for _, p := range l.pts {
			hi = max(hi, p.Y)
			if p.Y > 0 {
				lo = min(lo, p.Y)
			}
		}
	}
	if log && hi > 0 {
		floor := math.Floor(math.Log10(max(lo, minLatencyMs)))
		for _, l := range s.lines {
			for i := range l.pts {
				l.pts[i].Y = max(math.Log10(l.pts[i].Y), floor)
			}
		}
		s.yLog, s.yMin, s.yTicks = true, floor, latencyLogTicks{}
		s.yLabel = what + " (log scale)"
		return
	}
	perUnit, unit := latencyUnit(hi)
	for _, l := range s.lines {
		scale(l.pts, perUnit)
	}
	s.yLabel = what + " (" + unit + ")"
}

// scale divides the points' y by perUnit.
func scale(pts plotter.XYs, perUnit float64) {
	if perUnit == 1 {
		return
	}
	for i := range pts {
		pts[i].Y /= perUnit
	}
}

// latencyUnit is the unit a linear axis shows latencies up to maxMs in,
// and the milliseconds per unit: ms below a second, seconds below three
// minutes, minutes beyond.
func latencyUnit(maxMs float64) (perUnit float64, unit string) {
	switch {
	case maxMs >= 180_000:
		return 60_000, "min"
	case maxMs >= 1000:
		return 1000, "s"
	}
	return 1, "ms"
}

// latencyLogTicks ticks a log latency axis, whose values are log10s of
// milliseconds: a labelled tick at each power of ten, minor ones at 2 to 9
// times it.
type latencyLogTicks struct{}

// Ticks implements plot.Ticker.
func (latencyLogTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := int(math.Floor(lo)); float64(e) <= hi; e++ {
		if float64(e) >= lo {
			ts = append(ts, plot.Tick{Value: float64(e), Label: latencyLabel(e)})
		}
		for m := 2; m < 10; m++ {
			if x := float64(e) + math.Log10(float64(m)); x >= lo && x <= hi {
				ts = append(ts, plot.Tick{Value: x})
			}
		}
	}
	return ts
}

// latencyLabel labels the latency of 10^e milliseconds in the unit that
// reads best: "1µs", "100µs", "10ms", "1s", "100s".
func latencyLabel(e int) string {
	switch {
	case e < -3:
		return "10^" + strconv.Itoa(e) + "ms" // below the histograms' resolution
	case e < 0:
		return strconv.Itoa(int(math.Round(math.Pow(10, float64(e+3))))) + "µs"
	case e < 3:
		return strconv.Itoa(int(math.Round(math.Pow(10, float64(e))))) + "ms"
	}
	return group(strconv.FormatFloat(math.Pow(10, float64(e-3)), 'f', 0, 64)) + "s"
}

// timeAxis returns the label of a time series' x axis, whose values are
// seconds since the start on the recorder's clock, and the seconds per unit
// to draw them in: minutes past ten of them. The recorder's clock is
// scenario time: on real connections it runs the scenario's time scale
// faster than the wall clock, and in bench sim it is simulated. The label
// says which, with the time scale when every run has the same.
func timeAxis(runs []run, maxS float64) (label string, perUnit float64) {
	unit, perUnit := "s", 1.0
	if maxS > 600 {
		unit, perUnit = "min", 60
	}
	sims, scales := 0, map[string]bool{}
	for _, r := range runs {
		switch {
		case r.r.Sim != nil:
			sims++
		case r.r.ScenarioS > 0 && r.r.DurationS > 0:
			scales[strconv.FormatFloat(r.r.ScenarioS/r.r.DurationS, 'g', 2, 64)] = true
		default:
			scales["?"] = true // older than scenario_s: the scale is unknown
		}
	}
	switch {
	case sims == len(runs):
		return "simulated time (" + unit + ")", perUnit
	case sims == 0 && len(scales) == 1 && !scales["?"] && !scales["1"]:
		for k := range scales {
			return "scenario time (" + unit + "), played " + k + "× faster than wall time", perUnit
		}
	}
	return "scenario time (" + unit + ")", perUnit
}
