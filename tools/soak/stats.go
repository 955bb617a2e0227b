package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// per10m is the span the growth of a series is stated over: a slope in
// units per second times per10m is the growth in ten minutes, the soak's
// default length, so that runs of any length are judged on one scale.
const per10m = 600.0

// minute is the length of the first and last windows the step check
// compares, in seconds.
const minute = 60.0

// Point is one observation of a series: T seconds after the load started,
// value V.
type Point struct {
	T float64 `json:"t_s"`
	V float64 `json:"v"`
}

// Line is a least-squares line V = Intercept + Slope×T.
type Line struct {
	Slope     float64 // units per second
	Intercept float64
}

// errFewPoints is returned by fitLine with fewer than two distinct times.
var errFewPoints = errors.New("fewer than two points at distinct times")

// fitLine fits a least-squares line to ps.
func fitLine(ps []Point) (Line, error) {
	if len(ps) < 2 {
		return Line{}, errFewPoints
	}
	var mt, mv float64
	for _, p := range ps {
		mt += p.T
		mv += p.V
	}
	n := float64(len(ps))
	mt /= n
	mv /= n
	var stt, stv float64
	for _, p := range ps {
		stt += (p.T - mt) * (p.T - mt)
		stv += (p.T - mt) * (p.V - mv)
	}
	if stt == 0 {
		return Line{}, errFewPoints
	}
	b := stv / stt
	return Line{Slope: b, Intercept: mv - b*mt}, nil
}

// Stats describe a series over the judged (steady) window.
type Stats struct {
	N      int     `json:"n"`
	Start  float64 `json:"start"`
	End    float64 `json:"end"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	// SlopePer10m is the least-squares slope, in units per ten minutes.
	SlopePer10m float64 `json:"slope_per_10m"`
	// FirstMinute and LastMinute are the means of the points in the first
	// and the last minute of the window.
	FirstMinute float64 `json:"first_minute_mean"`
	LastMinute  float64 `json:"last_minute_mean"`
}

// describe computes the Stats of ps, sorted by time; it needs two points
// at distinct times.
func describe(ps []Point) (Stats, error) {
	line, err := fitLine(ps)
	if err != nil {
		return Stats{}, err
	}
	vs := make([]float64, len(ps))
	s := Stats{N: len(ps), Start: ps[0].V, End: ps[len(ps)-1].V, Min: math.Inf(1), Max: math.Inf(-1), SlopePer10m: line.Slope * per10m}
	for i, p := range ps {
		vs[i] = p.V
		s.Min = min(s.Min, p.V)
		s.Max = max(s.Max, p.V)
		s.Mean += p.V
	}
	s.Mean /= float64(len(ps))
	slices.Sort(vs)
	if n := len(vs); n%2 == 1 {
		s.Median = vs[n/2]
	} else {
		s.Median = (vs[n/2-1] + vs[n/2]) / 2
	}
	t0, t1 := ps[0].T, ps[len(ps)-1].T
	s.FirstMinute = meanWhere(ps, func(t float64) bool { return t < t0+minute })
	s.LastMinute = meanWhere(ps, func(t float64) bool { return t > t1-minute })
	return s, nil
}

// meanWhere is the mean of the values at the times keep accepts (at least
// one: the caller's windows always hold an end point).
func meanWhere(ps []Point, keep func(float64) bool) float64 {
	var sum float64
	n := 0
	for _, p := range ps {
		if keep(p.T) {
			sum += p.V
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// Rule says how a series is judged.
type Rule struct {
	// Kind is RuleSlope, RuleSteps, or "" for a series only reported.
	Kind string `json:"kind,omitempty"`
	// Frac and Floor set the tolerance: for RuleSlope the growth allowed in
	// ten minutes is max(Frac×mean, Floor); for RuleSteps a rise is allowed
	// up to Frac×median + Floor.
	Frac  float64 `json:"frac,omitempty"`
	Floor float64 `json:"floor,omitempty"`
}

// The kinds of Rule.
const (
	// RuleSlope fails a series whose least-squares slope, over ten
	// minutes, exceeds the tolerance: slow, steady growth (a leak of
	// memory per session). A falling series passes.
	RuleSlope = "slope"
	// RuleSteps fails a series of small integers whose maximum exceeds its
	// median, or whose last minute's mean exceeds its first minute's, by
	// more than the tolerance: a count that climbs in steps (goroutines
	// left behind) or spikes.
	RuleSteps = "steps"
)

// Verdict is one check of one series.
type Verdict struct {
	Series string `json:"series"`
	// Check is "slope" (growth in ten minutes), "spread" (max − median) or
	// "drift" (last minute's mean − first minute's).
	Check    string  `json:"check"`
	Measured float64 `json:"measured"`
	Limit    float64 `json:"limit"`
	Pass     bool    `json:"pass"`
	// Detail says the check in words, with the figures.
	Detail string `json:"detail"`
}

// judge applies r to the series name observed as ps over the steady
// window (sorted by time) and returns its verdicts: none for a series only
// reported, one failing verdict when there are too few points to judge.
// unit ("bytes" or "count") says how the details show the figures.
func judge(name, unit string, ps []Point, r Rule) []Verdict {
	f := func(v float64) string { return formatValue(unit, v) }
	if r.Kind == "" {
		return nil
	}
	s, err := describe(ps)
	if err != nil {
		return []Verdict{{Series: name, Check: r.Kind, Pass: false,
			Detail: fmt.Sprintf("cannot judge %s: %v in the steady window (%d samples)", name, err, len(ps))}}
	}
	switch r.Kind {
	case RuleSlope:
		limit := max(r.Frac*s.Mean, r.Floor)
		return []Verdict{{Series: name, Check: "slope", Measured: s.SlopePer10m, Limit: limit, Pass: s.SlopePer10m <= limit,
			Detail: fmt.Sprintf("growth %s per 10m (least squares over %d samples) against max(%g%% of mean %s, %s) = %s",
				f(s.SlopePer10m), s.N, 100*r.Frac, f(s.Mean), f(r.Floor), f(limit))}}
	case RuleSteps:
		limit := r.Frac*s.Median + r.Floor
		spread, drift := s.Max-s.Median, s.LastMinute-s.FirstMinute
		return []Verdict{
			{Series: name, Check: "spread", Measured: spread, Limit: limit, Pass: spread <= limit,
				Detail: fmt.Sprintf("max %s − median %s = %s against %g%% of median + %s = %s", f(s.Max), f(s.Median), f(spread), 100*r.Frac, f(r.Floor), f(limit))},
			{Series: name, Check: "drift", Measured: drift, Limit: limit, Pass: drift <= limit,
				Detail: fmt.Sprintf("last minute's mean %s − first minute's %s = %s against %s", f(s.LastMinute), f(s.FirstMinute), f(drift), f(limit))},
		}
	}
	return []Verdict{{Series: name, Check: r.Kind, Pass: false, Detail: fmt.Sprintf("unknown rule %q", r.Kind)}}
}

// formatValue shows v in unit: bytes in MiB, counts with at most one
// decimal.
func formatValue(unit string, v float64) string {
	if unit == "bytes" {
		return fmt.Sprintf("%.2f MiB", v/(1<<20))
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
