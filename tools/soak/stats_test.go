package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

const mib = 1 << 20

// series samples f every 10 seconds over a steady window from 2 to 10
// minutes, as a default soak sees it.
func series(f func(t float64) float64) []Point {
	var ps []Point
	for t := 120.0; t <= 600; t += 10 {
		ps = append(ps, Point{T: t, V: f(t)})
	}
	return ps
}

// noise returns uniform noise in ±amp, reproducible.
func noise(seed uint64, amp float64) func() float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	return func() float64 { return (2*r.Float64() - 1) * amp }
}

var (
	memRule       = Rule{Kind: RuleSlope, Frac: 0.05, Floor: 8 * mib}
	goroutineRule = Rule{Kind: RuleSteps, Frac: 0.02, Floor: 10}
)

func passed(vs []Verdict) bool {
	for _, v := range vs {
		if !v.Pass {
			return false
		}
	}
	return len(vs) > 0
}

func TestFitLine(t *testing.T) {
	ps := series(func(t float64) float64 { return 3 + 0.5*t })
	l, err := fitLine(ps)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l.Slope-0.5) > 1e-12 || math.Abs(l.Intercept-3) > 1e-9 {
		t.Errorf("fit %+v; want slope 0.5, intercept 3", l)
	}
	for _, bad := range [][]Point{nil, {{T: 1, V: 1}}, {{T: 1, V: 1}, {T: 1, V: 2}}} {
		if _, err := fitLine(bad); err == nil {
			t.Errorf("fitLine(%v): no error", bad)
		}
	}
}

func TestDescribe(t *testing.T) {
	ps := []Point{{0, 4}, {30, 1}, {60, 3}, {90, 2}, {120, 10}}
	s, err := describe(ps)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{N: 5, Start: 4, End: 10, Min: 1, Max: 10, Mean: 4, Median: 3, FirstMinute: 2.5, LastMinute: 6}
	s.SlopePer10m = 0
	if s != want {
		t.Errorf("describe: %+v\nwant       %+v", s, want)
	}
}

// TestMemory: a flat line with noise passes, as does a falling one and a
// heap's GC sawtooth; steady growth beyond the tolerance fails.
func TestMemory(t *testing.T) {
	n := noise(1, 3*mib)
	for _, tc := range []struct {
		name string
		f    func(t float64) float64
		pass bool
	}{
		{"flat with noise", func(float64) float64 { return 40*mib + n() }, true},
		{"GC sawtooth", func(t float64) float64 { return 6*mib + 6*mib*math.Mod(t, 37)/37 }, true},
		{"falling", func(t float64) float64 { return 60*mib - t*mib/60 }, true},
		{"growth under the floor", func(t float64) float64 { return 40*mib + 4*mib*t/600 + n() }, true},
		{"leak: 20 MiB per 10 minutes", func(t float64) float64 { return 40*mib + 20*mib*t/600 + n() }, false},
		{"leak of 5% on a big server", func(t float64) float64 { return 2000*mib + 120*mib*t/600 + n() }, false},
		{"a big server's noise", func(float64) float64 { return 2000*mib + 10*n() }, true},
	} {
		vs := judge("rss_bytes", "bytes", series(tc.f), memRule)
		if got := passed(vs); got != tc.pass {
			t.Errorf("%s: pass %v, want %v: %+v", tc.name, got, tc.pass, vs)
		}
	}
}

// TestGoroutines: small integer noise passes; a step, a spike and a slow
// climb fail.
func TestGoroutines(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	jitter := func() float64 { return float64(r.IntN(5) - 2) } // -2..2
	for _, tc := range []struct {
		name  string
		f     func(t float64) float64
		pass  bool
		fails string // the check expected to fail
	}{
		{"flat with noise", func(float64) float64 { return 20 + jitter() }, true, ""},
		{"late step", func(t float64) float64 { return 20 + step(t, 400, 25) + jitter() }, false, "spread"},
		// A step early in the window raises the median with it: the drift
		// between the first and the last minute tells.
		{"early step", func(t float64) float64 { return 20 + step(t, 200, 25) + jitter() }, false, "drift"},
		{"one spike", func(t float64) float64 { return 20 + step(t, 300, 40) - step(t, 310, 40) }, false, "spread"},
		{"leak: one every 20 seconds", func(t float64) float64 { return 20 + math.Floor(t/20) }, false, "drift"},
	} {
		vs := judge("goroutines", "count", series(tc.f), goroutineRule)
		if len(vs) != 2 {
			t.Fatalf("%s: %d verdicts; want spread and drift", tc.name, len(vs))
		}
		if got := passed(vs); got != tc.pass {
			t.Errorf("%s: pass %v, want %v: %+v", tc.name, got, tc.pass, vs)
		}
		for _, v := range vs {
			if v.Check == tc.fails && v.Pass {
				t.Errorf("%s: %s passed: %+v", tc.name, v.Check, v)
			}
		}
	}
}

func step(t, at, by float64) float64 {
	if t >= at {
		return by
	}
	return 0
}

func TestJudgeTooFew(t *testing.T) {
	for _, r := range []Rule{memRule, goroutineRule} {
		vs := judge("x", "count", []Point{{T: 130, V: 1}}, r)
		if len(vs) != 1 || vs[0].Pass {
			t.Errorf("%s rule with one point: %+v; want one failing verdict", r.Kind, vs)
		}
	}
	if vs := judge("x", "count", series(func(float64) float64 { return 1 }), Rule{}); vs != nil {
		t.Errorf("a reported series was judged: %+v", vs)
	}
}
