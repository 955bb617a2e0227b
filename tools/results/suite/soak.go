package suite

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/swarmdesk/swarmdesk/reports"
)

// SoakFile is the summary tools/soak writes into its --out directory, and
// SoakSchema the version of it this package reads.
const (
	SoakFile   = "soak.json"
	SoakSchema = "swarmdesk.soak/v1"
)

// Soak is tools/soak's summary: refserver held under a steady load, its
// memory, goroutines and descriptors sampled and judged for growth over
// the steady window. The fields are soak.json's that RESULTS.md shows
// (tools/soak is a command, so its types are mirrored here, not
// imported).
type Soak struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	// DurationS is the load's wall time, WarmupS the part of it before
	// the judged window, IntervalS the time between samples.
	DurationS float64 `json:"duration_s"`
	WarmupS   float64 `json:"warmup_s"`
	IntervalS float64 `json:"interval_s"`
	// Rate is the scenario's arrivals per second of scenario time, played
	// Timescale times faster.
	Rate      float64 `json:"rate"`
	Timescale float64 `json:"timescale"`
	Server    struct {
		// CPUUtilization is the server's CPU time over the steady
		// window's wall time (1: one core busy).
		CPUUtilization float64 `json:"cpu_utilization"`
	} `json:"server"`
	// Series are the series sampled, with their statistics over the
	// steady window; Verdicts the checks of the judged ones.
	Series   []SoakSeries  `json:"series"`
	Verdicts []SoakVerdict `json:"verdicts"`
	// Bench is the load's bench run.
	Bench SoakBench `json:"bench"`
	// Growth is set when a growth check failed; Pass when none did and
	// the load was held; Reasons say why it did not pass.
	Growth  bool     `json:"growth"`
	Pass    bool     `json:"pass"`
	Reasons []string `json:"reasons"`
}

// SoakSeries is one sampled series.
type SoakSeries struct {
	// Name is the series' key (rss_bytes, goroutines, ...), Label its
	// name in words, Unit "bytes" or "count".
	Name, Label, Unit string
	// Steady are its statistics over the steady window, nil when it had
	// too few samples there.
	Steady *SoakStats `json:"steady"`
}

// SoakStats describe a series over the steady window: its first and last
// samples, extremes, median, and the least-squares slope stated as the
// growth in ten minutes.
type SoakStats struct {
	N                                  int
	Start, End, Min, Max, Mean, Median float64
	SlopePer10m                        float64 `json:"slope_per_10m"`
}

// SoakVerdict is one check of one series: Check is "slope" (growth in ten
// minutes), "spread" (max − median) or "drift" (last minute's mean −
// first minute's), Measured against Limit.
type SoakVerdict struct {
	Series, Check   string
	Measured, Limit float64
	Pass            bool
	Detail          string
}

// SoakBench is how the load's bench run went.
type SoakBench struct {
	Valid          bool                `json:"valid"`
	InvalidReasons []string            `json:"invalid_reasons"`
	Objectives     []reports.Objective `json:"objectives"`
	Sessions       reports.Sessions    `json:"sessions"`
	Messages       reports.Messages    `json:"messages"`
}

// ObjectivesMet counts the objectives that passed.
func (b SoakBench) ObjectivesMet() int { return objectivesMet(b.Objectives) }

// ObjectivesFailed returns the objectives that failed.
func (b SoakBench) ObjectivesFailed() []reports.Objective { return objectivesFailed(b.Objectives) }

// readSoak reads entry id's soak.json. Fields tools/soak adds are
// ignored: its schema says when one changes meaning.
func readSoak(id, dir string) (s *Soak, err error) {
	err = readOutput(id, dir, SoakFile, func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s = &Soak{}
		if err := json.Unmarshal(b, s); err != nil {
			return err
		}
		switch {
		case s.Schema != SoakSchema:
			return fmt.Errorf("schema %q, want %q", s.Schema, SoakSchema)
		case len(s.Series) == 0:
			return fmt.Errorf("no series")
		}
		return nil
	})
	return s, err
}

// soakShown are the series RESULTS.md lists, in order, besides any other
// series that was judged.
var soakShown = []string{"rss_bytes", "heap_inuse_bytes", "goroutines", "fds", "connections"}

// SoakRow is one series as RESULTS.md's table shows it, formatted.
type SoakRow struct {
	// Label is the series' name; Start and End its steady window's
	// first and last samples, Range their min–max, "—" when it had none.
	Label, Start, End, Range string
	// Slope is the least-squares growth in ten minutes, signed.
	Slope string
	// Limit is the slope's limit, or the series' other checks with
	// theirs; "—" for a series not judged.
	Limit string
	// Verdict is "pass", "**FAIL**" or "—" (not judged).
	Verdict string
}

// Rows returns the table's rows: the series of soakShown and any other
// judged series, in soak.json's order.
func (s *Soak) Rows() []SoakRow {
	var out []SoakRow
	for _, ss := range s.Series {
		var vs []SoakVerdict
		for _, v := range s.Verdicts {
			if v.Series == ss.Name {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 && !slices.Contains(soakShown, ss.Name) {
			continue
		}
		f := func(v float64) string { return soakValue(ss.Unit, v) }
		r := SoakRow{Label: ss.Label, Start: "—", End: "—", Range: "—", Slope: "—", Limit: "—", Verdict: "—"}
		if st := ss.Steady; st != nil {
			r.Start, r.End, r.Range = f(st.Start), f(st.End), f(st.Min)+"–"+f(st.Max)
			r.Slope = soakSlope(ss.Unit, st.SlopePer10m)
		}
		if len(vs) > 0 {
			var limits []string
			pass := true
			for _, v := range vs {
				pass = pass && v.Pass
				switch {
				case ss.Steady == nil:
					limits = append(limits, cell(v.Detail)) // too few samples to judge
				case v.Check == "slope" && len(vs) == 1:
					limits = append(limits, soakLimit(ss.Unit, v.Limit))
				case v.Check == "spread":
					limits = append(limits, fmt.Sprintf("max − median %s (limit %s)", soakLimit(ss.Unit, v.Measured), soakLimit(ss.Unit, v.Limit)))
				case v.Check == "drift":
					limits = append(limits, fmt.Sprintf("last minute − first %s (limit %s)", soakLimit(ss.Unit, v.Measured), soakLimit(ss.Unit, v.Limit)))
				default:
					limits = append(limits, fmt.Sprintf("%s %s (limit %s)", v.Check, soakLimit(ss.Unit, v.Measured), soakLimit(ss.Unit, v.Limit)))
				}
			}
			r.Limit = strings.Join(limits, "; ")
			r.Verdict = "pass"
			if !pass {
				r.Verdict = "**FAIL**"
			}
		}
		out = append(out, r)
	}
	return out
}

// soakValue formats a sample: bytes in MiB, counts as whole numbers.
func soakValue(unit string, v float64) string {
	if unit == "bytes" {
		return mib(v)
	}
	return count(int64(math.Round(v)))
}

// soakLimit formats a limit or a checked figure: bytes in MiB, counts
// with at most one decimal.
func soakLimit(unit string, v float64) string {
	if unit == "bytes" {
		return mib(v)
	}
	return sigMax(v, 1)
}

// soakSlope formats a growth with its sign.
func soakSlope(unit string, v float64) string {
	s := soakLimit(unit, v)
	if v > 0 {
		s = "+" + s
	}
	return s
}

// Minutes is the load's length in minutes.
func (s *Soak) Minutes() float64 { return s.DurationS / 60 }

// WarmupMinutes is the warm-up's length in minutes, before the judged
// window.
func (s *Soak) WarmupMinutes() float64 { return s.WarmupS / 60 }

// WallRate is the arrivals per second of wall time.
func (s *Soak) WallRate() float64 { return s.Rate * s.Timescale }

// Connections is the median of the connections the server held over the
// steady window, 0 when not sampled.
func (s *Soak) Connections() float64 {
	for _, ss := range s.Series {
		if ss.Name == "connections" && ss.Steady != nil {
			return ss.Steady.Median
		}
	}
	return 0
}
