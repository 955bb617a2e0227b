package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/swarmdesk/swarmdesk/reports"
)

// newHist returns an empty histogram of the bench's default geometry:
// nanoseconds, 1µs to 1h, 3 significant digits.
func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1000, 3600e9, 3)
}

// spec describes one synthetic run.
type spec struct {
	// scenario defaults to "smoke", seed (the result's) to 42.
	scenario string
	seed     uint64
	// draw seeds the random latencies and resources.
	draw uint64
	// scale multiplies every latency; 0 means 1.
	scale float64
	// intervals of perInterval delivery latencies each, log-normal around
	// 4ms.
	intervals, perInterval int
	// slot places the run's start, one minute per slot.
	slot int
	// lost is the run's lost deliveries; invalid, when set, makes the run
	// invalid for that reason.
	lost    int64
	invalid string
}

// built holds the runs built, by spec: building and encoding the
// histograms is most of the tests' time.
var built sync.Map

// run returns the result of one synthetic run of s. Results are shared
// between calls with the same spec except for their top-level fields, which
// a test may change.
func run(t testing.TB, s spec) *reports.Result {
	t.Helper()
	r, ok := built.Load(s)
	if !ok {
		r, _ = built.LoadOrStore(s, build(t, s))
	}
	cp := *r.(*reports.Result)
	cp.InvalidReasons = slices.Clone(cp.InvalidReasons)
	return &cp
}

// build builds the result of one synthetic run of s.
func build(t testing.TB, s spec) *reports.Result {
	t.Helper()
	if s.scenario == "" {
		s.scenario = "smoke"
	}
	if s.seed == 0 {
		s.seed = 42
	}
	if s.scale == 0 {
		s.scale = 1
	}
	rng := rand.New(rand.NewPCG(s.draw, 7))
	whole := newHist()
	var series []reports.Point
	for i := range s.intervals {
		h := newHist()
		for range s.perInterval {
			v := int64(s.scale * 4e6 * math.Exp(0.4*rng.NormFloat64()))
			if err := h.RecordValue(v); err != nil {
				t.Fatal(err)
			}
			if err := whole.RecordValue(v); err != nil {
				t.Fatal(err)
			}
		}
		il, err := reports.NewIntervalLatency(h)
		if err != nil {
			t.Fatal(err)
		}
		n := int64(s.perInterval)
		series = append(series, reports.Point{
			StartS: float64(i), EndS: float64(i + 1), Deliveries: n, DeliveriesPerS: float64(n),
			Latency: map[string]reports.IntervalLatency{"delivery": il},
		})
	}
	sum, err := reports.NewSummary(whole)
	if err != nil {
		t.Fatal(err)
	}
	noise := func(v float64) float64 { return v * (1 + 0.01*rng.NormFloat64()) }
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).Add(time.Duration(s.slot) * time.Minute)
	end := start.Add(time.Duration(s.intervals) * time.Second)
	r := &reports.Result{
		Schema: reports.Schema,
		Run: reports.Run{
			Tool: "swarmdesk bench", ToolVersion: "v0.1.0", Scenario: s.scenario, Seed: s.seed,
			Start: start, End: end, DurationS: end.Sub(start).Seconds(), ScenarioS: float64(s.intervals),
			Shard: reports.ShardIndex{Index: 0, Count: 1}, Target: "embedded refserver 127.0.0.1:7400",
		},
		Valid:     true,
		Latency:   map[string]reports.Latency{"delivery": {Summary: sum, Raw: sum}},
		Messages:  reports.Messages{Sent: 1000, Delivered: 2000, Lost: s.lost},
		Generator: reports.Resources{Source: "self", CPUSeconds: noise(1.5), PeakRSSBytes: int64(noise(40 << 20))},
		Server:    reports.Resources{Source: "pid 1234", CPUSeconds: noise(2.5), PeakRSSBytes: int64(noise(30 << 20))},
		Series:    series,
	}
	if s.invalid != "" {
		r.Invalidate(s.invalid)
	}
	return r
}

// sideOf builds n runs of s, drawn from seeds draw, draw+1, ..., in the
// slots first, first+2, ... (so that two sides interleave).
func sideOf(t testing.TB, label string, n int, first int, s spec) Set {
	t.Helper()
	set := Set{Label: label}
	draw := s.draw
	for i := range n {
		s.draw, s.slot = draw+uint64(i), first+2*i
		set.Results = append(set.Results, run(t, s))
	}
	return set
}
