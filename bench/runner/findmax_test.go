package runner

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/reports"
)

// playSearch plays the search alone: verdict says what each load gets.
// It returns the loads tried and why the search stopped.
func playSearch(s *search, verdict func(load float64) verdict) (tried []float64, stop string) {
	for {
		load, why := s.next()
		if why != "" {
			return tried, why
		}
		tried = append(tried, load)
		s.record(load, verdict(load))
	}
}

// below passes a load at or below knee and fails it above.
func below(knee float64) func(float64) verdict {
	return func(load float64) verdict {
		if load <= knee {
			return verdictPass
		}
		return verdictFail
	}
}

// TestSearch plays the find-max search against knees of known position,
// with a pass whenever the load is at or below the knee.
func TestSearch(t *testing.T) {
	for _, c := range []struct {
		name    string
		integer bool
		first   float64
		knee    float64
	}{
		{"rate up", false, 1, 37.3},
		{"rate down", false, 100, 3.3},
		{"rate at start", false, 5, 5},
		{"rate from smoke's own", false, 0.5, 88},
		{"population up", true, 10, 437},
		{"population down", true, 400, 23},
		{"population small", true, 8, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &search{opts: FindMaxOptions{}.withDefaults(), integer: c.integer, first: c.first}
			tried, stop := playSearch(s, below(c.knee))
			if stop != stopSettled {
				t.Fatalf("stopped %q after %v", stop, tried)
			}
			if s.lo > c.knee || s.hi <= c.knee {
				t.Errorf("bounds [%g, %g] do not hold the knee %g (tried %v)", s.lo, s.hi, c.knee, tried)
			}
			if s.lo < c.knee*0.9 {
				t.Errorf("best %g is more than 10%% below the knee %g (tried %v)", s.lo, c.knee, tried)
			}
			if len(tried) > s.opts.MaxSteps {
				t.Errorf("%d steps: %v", len(tried), tried)
			}
		})
	}
	t.Run("none passes", func(t *testing.T) {
		s := &search{opts: FindMaxOptions{MaxSteps: 40}.withDefaults(), integer: true, first: 16}
		tried, stop := playSearch(s, func(float64) verdict { return verdictFail })
		if stop != stopNonePassed || s.lo != 0 || !slices.Equal(tried, []float64{16, 8, 4, 2, 1}) {
			t.Errorf("stopped %q with best %g after %v, want none passed after 16 8 4 2 1", stop, s.lo, tried)
		}
	})
	t.Run("step budget", func(t *testing.T) {
		s := &search{opts: FindMaxOptions{MaxSteps: 3}.withDefaults(), first: 1}
		_, stop := playSearch(s, func(float64) verdict { return verdictPass })
		if stop != stopSteps || s.lo != 4 {
			t.Errorf("stopped %q with best %g, want steps at 4", stop, s.lo)
		}
	})
	t.Run("integer climb by a small factor", func(t *testing.T) {
		s := &search{opts: FindMaxOptions{Factor: 1.2, MaxSteps: 40}.withDefaults(), integer: true, first: 1}
		tried, stop := playSearch(s, below(6))
		if stop != stopSettled || s.lo != 6 || s.hi != 7 || !slices.Equal(tried, []float64{1, 2, 3, 4, 5, 6, 7}) {
			t.Errorf("stopped %q at [%g, %g] after %v, want settled at [6, 7] one by one", stop, s.lo, s.hi, tried)
		}
	})
	t.Run("climbs over loads too small to judge", func(t *testing.T) {
		s := &search{opts: FindMaxOptions{}.withDefaults(), first: 1}
		tried, stop := playSearch(s, func(load float64) verdict {
			if load < 4 {
				return verdictUnjudged
			}
			return below(37.3)(load)
		})
		if stop != stopSettled || s.lo > 37.3 || s.hi <= 37.3 || tried[1] != 2 || tried[2] != 4 {
			t.Errorf("stopped %q at [%g, %g] after %v, want settled around 37.3 after climbing 1 2 4", stop, s.lo, s.hi, tried)
		}
	})
	t.Run("no verdict below a failure", func(t *testing.T) {
		s := &search{opts: FindMaxOptions{}.withDefaults(), first: 1}
		tried, stop := playSearch(s, func(load float64) verdict {
			if load < 4 {
				return verdictUnjudged
			}
			return verdictFail
		})
		// 1, 2 unjudged; 4 fails; below it lies only the unjudged 2.
		if stop != stopTooFew || s.lo != 0 || s.hi != 4 || !slices.Equal(tried, []float64{1, 2, 4}) {
			t.Errorf("stopped %q at [%g, %g] after %v, want too few samples after 1 2 4", stop, s.lo, s.hi, tried)
		}
	})
	t.Run("unjudged between bounds stops", func(t *testing.T) {
		s := &search{opts: FindMaxOptions{}.withDefaults(), first: 10}
		tried, stop := playSearch(s, func(load float64) verdict {
			switch {
			case load <= 10:
				return verdictPass
			case load < 20:
				return verdictUnjudged
			}
			return verdictFail
		})
		if stop != stopTooFew || s.lo != 10 || s.hi != 20 || len(tried) != 3 {
			t.Errorf("stopped %q at [%g, %g] after %v, want too few samples at [10, 20] after 3 steps", stop, s.lo, s.hi, tried)
		}
	})
}

// fakeServer plays runs of the knee scenario without a server: each
// customer of the population asks the bot four times; the answers take
// 2ms while the population is at most knee and 600ms above it. flaky lists
// the runs (by seed and population) on which a stall slows a tenth of the
// answers; invalid those whose generator fell behind.
type fakeServer struct {
	knee    int
	flaky   map[[2]int]bool
	invalid map[[2]int]bool
	// saturation, when set, gives each run its saturation section by
	// population.
	saturation func(pop int) *reports.Saturation

	mu    sync.Mutex
	plays []fakePlay
}

// fakePlay is what one run was asked to play.
type fakePlay struct {
	population int
	seed       uint64
	dir        string
	prefix     string
}

func (f *fakeServer) play(_ context.Context, sc *scenario.Scenario, dir, prefix string) (*reports.Result, error) {
	pop := sc.Customers.Population
	f.mu.Lock()
	f.plays = append(f.plays, fakePlay{pop, sc.Seed, dir, prefix})
	f.mu.Unlock()
	key := [2]int{int(sc.Seed), pop}
	n := 4 * pop
	slow := 0
	switch {
	case pop > f.knee:
		slow = n
	case f.flaky[key]:
		slow = n / 10
	}
	h := hdrhistogram.New(1, int64(time.Minute), 3)
	for i := range n {
		v := 2 * time.Millisecond
		if i < slow {
			v = 600 * time.Millisecond
		}
		if err := h.RecordValue(int64(v)); err != nil {
			return nil, err
		}
	}
	s, err := reports.NewSummary(h)
	if err != nil {
		return nil, err
	}
	res := &reports.Result{
		Run: reports.Run{
			Tool: "fake", Scenario: sc.Name, Seed: sc.Seed, Shard: reports.ShardIndex{Index: 0, Count: 1},
			Target: "fake", DurationS: 3.5, ScenarioS: 3.5,
		},
		Valid:     true,
		Latency:   map[string]reports.Latency{"bot": {Summary: s}},
		Messages:  reports.Messages{Sent: int64(n), Delivered: int64(n)},
		Generator: reports.Resources{Source: "self", CPUSeconds: 1, PeakRSSBytes: 100, Connections: int64(pop)},
		Server:    reports.Resources{Source: "pid 1", CPUSeconds: 0.5, PeakRSSBytes: 50, Connections: int64(pop)},
		Series:    []reports.Point{{StartS: 0, EndS: 2, Messages: int64(n / 2)}, {StartS: 2, EndS: 3.5, Messages: int64(n - n/2)}},
	}
	if f.invalid[key] {
		res.Invalidate("generator fell behind")
	}
	if f.saturation != nil {
		res.Saturation = f.saturation(pop)
		res.Saturation.Judge(res)
	}
	res.Objectives = Evaluate(sc, res)
	return res, nil
}

// kneeScenario is testdata/knee.yaml: bot.p99 < 300ms over a population.
func kneeScenario(t *testing.T) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.LoadWith(filepath.Join("testdata", "knee.yaml"), scenario.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestFindMaxSteps runs the whole search, trials and merges against a fake
// server of known knee (37 customers): each step's runs merged until the
// p99 has its 100 values, a failure confirmed before the search turns on
// it, a stall refuted by its confirmation, and the record of it all.
func TestFindMaxSteps(t *testing.T) {
	sc := kneeScenario(t)
	fs := &fakeServer{
		knee: 37,
		// Population 20's first run (seed 7) stalls: the step's first
		// trial fails, its confirmation (runs 3 and 4) passes.
		flaky: map[[2]int]bool{{7, 20}: true},
		// Population 30's first run is invalid: confirmed against by its
		// second trial.
		invalid: map[[2]int]bool{{7, 30}: true},
	}
	dir := t.TempDir()
	f, err := newFinder(sc, FindMaxOptions{Start: 10}, dir, io.Discard, fs.play)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fm := res.FindMax
	if fm == nil {
		t.Fatal("no find_max in the result")
	}
	if fm.Best != 37 || fm.Failed != 38 || fm.Stopped != stopSettled || fm.MaxRuns != 5 {
		t.Errorf("best %g failed %g stopped %q max runs %d, want 37, 38, settled, 5", fm.Best, fm.Failed, fm.Stopped, fm.MaxRuns)
	}
	byLoad := map[float64]reports.FindMaxStep{}
	for i, st := range fm.Steps {
		byLoad[st.Load] = st
		if want := filepath.Join(dir, fmt.Sprintf("step-%02d", i+1)); st.Dir != want {
			t.Errorf("step %d in %s, want %s", i+1, st.Dir, want)
		}
		// Every failure confirmed: two trials, neither passed.
		if !st.Pass && (len(st.Trials) != 2 || st.Trials[0].Pass || st.Trials[1].Pass || len(st.Failed) == 0) {
			t.Errorf("step %d (%g) failed without a confirmed failure: %+v", i+1, st.Load, st)
		}
		if st.Pass != (st.Load <= 37) {
			t.Errorf("step %d (%g): pass %v", i+1, st.Load, st.Pass)
		}
		// Every verdict on enough data: the step's result judged all.
		sr, err := reports.ReadFile(filepath.Join(st.Dir, ResultFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, ob := range sr.Objectives {
			if ob.Insufficient != "" {
				t.Errorf("step %d (%g) judged on too little: %+v", i+1, st.Load, ob)
			}
		}
	}
	// Population 10: 40 bot answers a run, so three runs merged (120).
	s10 := byLoad[10]
	if len(s10.Trials) != 1 || len(s10.Trials[0].Runs) != 3 || !s10.Pass {
		t.Fatalf("population 10: %+v, want one passing trial of 3 runs", s10)
	}
	m10, err := reports.ReadFile(filepath.Join(s10.Dir, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	if c := m10.Latency["bot"].Count; c != 120 || m10.ScenarioS != 10.5 || m10.Generator.CPUSeconds != 3 || m10.Generator.PeakRSSBytes != 100 || len(m10.Series) != 6 || m10.Series[5].EndS != 10.5 {
		t.Errorf("population 10 merged: bot %d, scenario %gs, generator %+v, %d points (last %+v); want 120, 10.5s, 3 CPU-s and 100 B peak, 6 points to 10.5s",
			c, m10.ScenarioS, m10.Generator, len(m10.Series), m10.Series[len(m10.Series)-1])
	}
	// Population 20: the stall in its first trial is refuted.
	s20 := byLoad[20]
	if !s20.Pass || len(s20.Trials) != 2 || s20.Trials[0].Pass || !s20.Trials[1].Pass || len(s20.Trials[0].Runs) != 2 || len(s20.Trials[1].Runs) != 2 {
		t.Errorf("population 20: %+v, want a failed trial of 2 runs refuted by a passing one of 2", s20)
	}
	if got := stepVerdict(s20); !strings.Contains(got, "not confirmed") {
		t.Errorf("population 20 reads %q", got)
	}
	s30 := byLoad[30]
	if !s30.Pass || len(s30.Trials) != 2 || !strings.Contains(strings.Join(s30.Trials[0].Failed, " "), "generator fell behind") {
		t.Errorf("population 30: %+v, want an invalid first trial refuted", s30)
	}
	// Each run its own seed (the step's Kth run the scenario's seed plus
	// K-1), directory and user ids.
	seen := map[string]bool{}
	seeds := map[int][]uint64{}
	for _, p := range fs.plays {
		if seen[p.dir] || seen[p.prefix] {
			t.Errorf("run %+v shares its directory or prefix", p)
		}
		seen[p.dir], seen[p.prefix] = true, true
		seeds[p.population] = append(seeds[p.population], p.seed)
	}
	if !slices.Equal(seeds[10], []uint64{7, 8, 9}) || !slices.Equal(seeds[20], []uint64{7, 8, 9, 10}) {
		t.Errorf("seeds %v, want 7 8 9 at 10 and 7 8 9 10 at 20", seeds)
	}
	if !Passed(res) || res.Latency["bot"].Count < 100 {
		t.Errorf("the best step's result: pass %v, bot %d", Passed(res), res.Latency["bot"].Count)
	}
	top, err := reports.ReadFile(filepath.Join(dir, ResultFile))
	if err != nil || top.FindMax == nil || len(top.FindMax.Steps) != len(fm.Steps) {
		t.Errorf("result.json: %v, %+v", err, top)
	}
}

// TestFindMaxTooFewSamples: an objective whose metric no run records is
// never judged, at any load: the search climbs over such steps, says why
// each has no verdict, and ends with too few samples rather than a pass
// or a failure.
func TestFindMaxTooFewSamples(t *testing.T) {
	sc := kneeScenario(t)
	if err := sc.Apply(scenario.Overrides{}); err != nil {
		t.Fatal(err)
	}
	obj, err := scenario.ParseObjective("menu.p99 < 50ms")
	if err != nil {
		t.Fatal(err)
	}
	sc.Objectives = append(sc.Objectives, obj)
	fs := &fakeServer{knee: 1000}
	f, err := newFinder(sc, FindMaxOptions{Start: 10, MaxSteps: 3}, t.TempDir(), io.Discard, fs.play)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fm := res.FindMax
	if fm.Stopped != stopTooFew || fm.Best != 0 || len(fm.Steps) != 3 || len(fs.plays) != 3 {
		t.Fatalf("stopped %q best %g after %d steps and %d runs, want too few samples after 3 steps of one run", fm.Stopped, fm.Best, len(fm.Steps), len(fs.plays))
	}
	for _, st := range fm.Steps {
		if st.Pass || st.Unjudged == "" || !strings.Contains(st.Unjudged, "menu.p99") || len(st.Failed) != 0 {
			t.Errorf("step %g: %+v, want no verdict naming menu.p99", st.Load, st)
		}
	}
}

// TestJudgeTrial: how many runs a trial asks for, from the samples the runs
// so far gave.
func TestJudgeTrial(t *testing.T) {
	p99 := func(samples int64, pass bool) reports.Objective {
		o := reports.Objective{Expression: "bot.p99 < 300ms", Unit: "ms", Samples: samples, MinSamples: 100, Pass: pass}
		if samples < 100 {
			o.Pass, o.Insufficient = false, fmt.Sprintf("too few samples: %d bot values, and a p99 needs 100", samples)
		}
		return o
	}
	lost := reports.Objective{Expression: "lost == 0", Unit: "count", Samples: 5, MinSamples: 1, Pass: false, Value: 1}
	for _, c := range []struct {
		name    string
		runs    int
		valid   bool
		obs     []reports.Objective
		want    verdict
		more    bool
		failed  int
		inShort string
	}{
		{"enough, met", 1, true, []reports.Objective{p99(150, true)}, verdictPass, false, 0, ""},
		{"enough, not met", 1, true, []reports.Objective{p99(150, false)}, verdictFail, false, 1, ""},
		{"40 of 100 in one run: more", 1, true, []reports.Objective{p99(40, false)}, 0, true, 0, "about 3 runs needed"},
		{"15 of 100 in one run: 7 runs, over 5", 1, true, []reports.Objective{p99(15, false)}, verdictUnjudged, false, 0, "more than the 5"},
		{"no data: cannot project", 1, true, []reports.Objective{p99(0, false)}, verdictUnjudged, false, 0, "bot.p99"},
		{"a judged failure ends it", 1, true, []reports.Objective{p99(40, false), lost}, verdictFail, false, 1, ""},
		{"invalid ends it", 1, false, []reports.Objective{p99(40, false)}, verdictFail, false, 1, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := &reports.Result{Valid: c.valid, Objectives: c.obs}
			if !c.valid {
				res.InvalidReasons = []string{"generator fell behind"}
			}
			v, failed, short, more := judgeTrial(res, c.runs, 5)
			if v != c.want || more != c.more || len(failed) != c.failed || !strings.Contains(short, c.inShort) {
				t.Errorf("verdict %d more %v failed %q short %q; want %d %v %d failures, short with %q", v, more, failed, short, c.want, c.more, c.failed, c.inShort)
			}
		})
	}
}
