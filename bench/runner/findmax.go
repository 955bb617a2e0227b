package runner

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/bench/swarm"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/reports"
)

// FindMaxOptions configure a search for the highest load that meets every
// objective (bench run --find-max), after Mattermost's load-test-ng
// coordinator: step the load up by Factor until a run breaks an objective,
// then narrow down between the last load that passed and the first that
// failed until they are within Precision of each other. The load is the
// scenario's base level: customers.rate for Poisson arrivals,
// customers.population for a population; phases scale with it.
//
// A verdict rests on data: a step plays the scenario again, each time with
// the next seed, and judges the runs merged, until every objective has the
// samples it needs (a p99 100 values), up to MaxRuns runs. A step that
// fails is played again, as a second trial, before the search turns on it:
// a load fails only when its confirmation fails too, so that one stall of a
// busy machine does not set the knee.
type FindMaxOptions struct {
	// Start is the first load tried. 0: the scenario's own base level.
	Start float64
	// Factor multiplies the load after each pass while no load has failed
	// (and divides it after each failure while none has passed). Default 2.
	Factor float64
	// Precision is the relative gap between the best pass and the first
	// failure at which the search stops. Default 0.05.
	Precision float64
	// MaxSteps bounds the number of loads tried (each one or two trials).
	// Default 16: from a scenario's own load, ten doublings and then five
	// halvings of the gap to 5%.
	MaxSteps int
	// MaxRuns bounds the runs one trial plays to give every objective its
	// samples. Default 5. A trial that would need more is not judged: the
	// search steps over it while climbing, and stops on it below a
	// failure.
	MaxRuns int
}

func (o FindMaxOptions) withDefaults() FindMaxOptions {
	if o.Factor <= 1 {
		o.Factor = 2
	}
	if o.Precision <= 0 {
		o.Precision = 0.05
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 16
	}
	if o.MaxRuns <= 0 {
		o.MaxRuns = 5
	}
	return o
}

// verdict is the outcome of a trial or a step.
type verdict int

const (
	verdictPass verdict = iota + 1
	verdictFail
	// verdictUnjudged: an objective had too few samples within the runs a
	// trial may play, so the load neither passed nor failed.
	verdictUnjudged
)

// Reasons a search stops, as FindMax.Stopped says them.
const (
	stopSettled     = "settled"
	stopSteps       = "steps"
	stopLimit       = "limit"
	stopNonePassed  = "none passed"
	stopTooFew      = "too few samples"
	stopInterrupted = "interrupted"
)

// search is the state of a find-max search: the best load that passed and
// the lowest that failed (0: none yet).
type search struct {
	opts     FindMaxOptions
	integer  bool // the load is a count (population)
	lo, hi   float64
	first    float64
	steps    int
	last     float64 // the load of the last step
	unjudged float64 // the highest load that could not be judged
	stop     string  // why the search cannot go on, once it cannot
}

// next returns the next load to try, or the reason to stop.
func (s *search) next() (float64, string) {
	if s.stop != "" {
		return 0, s.stop
	}
	if s.steps >= s.opts.MaxSteps {
		return 0, stopSteps
	}
	var load float64
	switch {
	case s.steps == 0:
		load = s.first
	case s.hi == 0:
		// Climbing: every load so far passed or could not be judged.
		load = s.last * s.opts.Factor
		if s.integer {
			load = math.Max(math.Round(load), s.last+1)
		}
	case s.lo == 0:
		load = s.hi / s.opts.Factor
		if s.integer {
			load = math.Min(math.Round(load), s.hi-1)
		}
	default:
		if (s.hi-s.lo)/s.lo <= s.opts.Precision || s.integer && s.hi-s.lo <= 1 {
			return 0, stopSettled
		}
		load = (s.lo + s.hi) / 2
		if s.integer {
			// Bisecting counts: stay strictly between the bounds.
			load = math.Min(math.Max(math.Round(load), s.lo+1), s.hi-1)
		}
	}
	if s.integer {
		load = math.Round(load)
	} else {
		// Six significant digits: a rate doubled and halved reads 57.6,
		// not 57.599999999999994, in the progress, summary and result.
		load, _ = strconv.ParseFloat(strconv.FormatFloat(load, 'g', 6, 64), 64)
	}
	switch {
	case s.steps == 0:
	case s.integer && load < 1:
		return 0, stopNonePassed
	case !s.integer && s.lo == 0 && s.hi > 0 && load < s.first/1024:
		return 0, stopNonePassed
	case s.lo == 0 && s.hi > 0 && load <= s.unjudged:
		// Below a failure, with nothing passed, lies only what could not
		// be judged.
		return 0, stopTooFew
	}
	return load, ""
}

// record notes the verdict on load.
func (s *search) record(load float64, v verdict) {
	s.steps++
	s.last = load
	switch v {
	case verdictPass:
		s.lo = math.Max(s.lo, load)
	case verdictFail:
		if s.hi == 0 || load < s.hi {
			s.hi = load
		}
	case verdictUnjudged:
		s.unjudged = math.Max(s.unjudged, load)
		if s.hi > 0 {
			// Only climbing steps over a load it cannot judge: more load
			// brings more samples. Below a failure, no verdict can come.
			s.stop = stopTooFew
		}
	}
}

// player plays one run of sc into dir, its user ids beginning with prefix,
// and returns the result with the objectives evaluated. The search plays
// every run through it; tests give it one that needs no server.
type player func(ctx context.Context, sc *scenario.Scenario, dir, prefix string) (*reports.Result, error)

// finder runs a find-max search: it picks loads (search), plays each as
// one or two trials of merged runs, and keeps the record.
type finder struct {
	opts    FindMaxOptions
	base    *scenario.Scenario
	param   string
	integer bool
	limit   int // open files allowed; 0: not checked
	dir     string
	play    player
	out     io.Writer
}

// findMax runs the search against addr, each run in its own directory under
// dir, with user ids of its own so that runs do not meet on the server. It
// returns the result of the highest load that passed, or, when none did, of
// the last one tried, with the search attached.
func findMax(ctx context.Context, base *scenario.Scenario, corpus *scenario.Corpus, opts Options, dir, addr, target string, srv *child.Process, pl *placement, out io.Writer) (*reports.Result, error) {
	_, _ = swarm.RaiseLimit()
	limit, err := swarm.Limit()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	f, err := newFinder(base, *opts.FindMax, dir, out, func(ctx context.Context, sc *scenario.Scenario, dir, prefix string) (*reports.Result, error) {
		return play(ctx, sc, corpus, opts, dir, addr, target, srv, pl, prefix, out)
	})
	if err != nil {
		return nil, err
	}
	f.limit = limit
	return f.run(ctx)
}

// newFinder prepares a search over base's load.
func newFinder(base *scenario.Scenario, opts FindMaxOptions, dir string, out io.Writer, p player) (*finder, error) {
	f := &finder{opts: opts.withDefaults(), base: base, param: "customers.rate", dir: dir, play: p, out: out}
	f.integer = base.Customers.Arrival == scenario.ArrivalPopulation
	if f.integer {
		f.param = "customers.population"
	}
	if f.firstLoad() <= 0 {
		return nil, fmt.Errorf("%w: %s: --find-max needs a load to start from: set %s or --find-max-start", ErrScenario, base.Name, f.param)
	}
	return f, nil
}

// firstLoad is the load the search starts from.
func (f *finder) firstLoad() float64 {
	switch {
	case f.opts.Start > 0:
		return f.opts.Start
	case f.integer:
		return float64(f.base.Customers.Population)
	}
	return f.base.Customers.Rate
}

// run searches, writes the result of the best step (or of the last, when
// none passed) with the search to dir, and returns it.
func (f *finder) run(ctx context.Context) (*reports.Result, error) {
	s := &search{opts: f.opts, integer: f.integer, first: f.firstLoad()}
	fm := &reports.FindMax{Parameter: f.param, Precision: f.opts.Precision, MaxRuns: f.opts.MaxRuns}
	var best, last *reports.Result
	for {
		load, stop := s.next()
		if stop != "" {
			fm.Stopped = stop
			break
		}
		if ctx.Err() != nil {
			fm.Stopped = stopInterrupted
			break
		}
		sc, err := f.scenarioAt(load)
		if err != nil {
			return nil, fmt.Errorf("%w: find-max step %d: %w", ErrScenario, s.steps+1, err)
		}
		if need := sc.PeakConnections(); f.limit > 0 && need > f.limit {
			fmt.Fprintf(f.out, "find-max: %s = %g needs %d connections at its peak; the open-file limit (RLIMIT_NOFILE) allows %d: stopping there\n", f.param, load, need, f.limit)
			fm.Stopped = stopLimit
			break
		}
		n := s.steps + 1
		fmt.Fprintf(f.out, "find-max step %d: %s = %g\n", n, f.param, load)
		st, res, v, err := f.step(ctx, n, load, sc)
		if err != nil {
			return nil, fmt.Errorf("find-max step %d (%s = %g): %w", n, f.param, load, err)
		}
		fm.Steps = append(fm.Steps, st)
		last = res
		if ctx.Err() != nil {
			// An interrupted step says nothing about its load.
			fm.Stopped = stopInterrupted
			break
		}
		fmt.Fprintf(f.out, "find-max step %d: %s = %g: %s\n", n, f.param, load, stepVerdict(st))
		if res != nil && res.Saturation != nil {
			for _, v := range res.Saturation.Verdicts {
				fmt.Fprintf(f.out, "find-max step %d: %s\n", n, v)
			}
		}
		s.record(load, v)
		if v == verdictPass && load >= s.lo {
			best = res
		}
	}
	fm.Best, fm.Failed = s.lo, s.hi
	fm.KneeSaturated = kneeSide(fm)
	if best == nil {
		best = last
		switch {
		case fm.Stopped != stopSettled && fm.Stopped != stopSteps:
		case s.hi == 0 && s.unjudged > 0:
			// Nothing passed and nothing failed: nothing was judged.
			fm.Stopped = stopTooFew
		default:
			fm.Stopped = stopNonePassed
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: find-max: no step ran", ErrSetup)
	}
	best.FindMax = fm
	fmt.Fprintf(f.out, "find-max: highest %s meeting every objective: %g (lowest failing: %g; stopped: %s)\n", f.param, fm.Best, fm.Failed, fm.Stopped)
	if fm.KneeSaturated != "" {
		fmt.Fprintf(f.out, "find-max: at the knee (%s = %g): %s\n", f.param, fm.Failed, kneeSays(fm.KneeSaturated))
	}
	if err := reports.WriteFile(filepath.Join(f.dir, ResultFile), best); err != nil {
		return best, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	return best, nil
}

// scenarioAt is the base scenario at load.
func (f *finder) scenarioAt(load float64) (*scenario.Scenario, error) {
	sc := f.base.Clone()
	var o scenario.Overrides
	if f.integer {
		n := int(load)
		o.Customers = &n
	} else {
		o.Rate = &load
	}
	if err := sc.Apply(o); err != nil {
		return nil, err
	}
	return sc, nil
}

// step plays load as one trial and, when that fails, a second that
// confirms it: the load fails only when both do. It returns the step's
// record, the last trial's result (written to the step's directory) and the
// verdict.
func (f *finder) step(ctx context.Context, n int, load float64, sc *scenario.Scenario) (reports.FindMaxStep, *reports.Result, verdict, error) {
	dir := filepath.Join(f.dir, fmt.Sprintf("step-%02d", n))
	st := reports.FindMaxStep{Load: load, Dir: dir}
	runs := 0
	var (
		res *reports.Result
		v   verdict
	)
	for t := 1; t <= 2; t++ {
		if t == 2 {
			fmt.Fprintf(f.out, "find-max step %d: %s = %g failed %q: playing it again to confirm\n", n, f.param, load, st.Trials[0].Failed)
		}
		var tr reports.FindMaxTrial
		var err error
		tr, res, v, err = f.trial(ctx, n, sc, dir, &runs)
		if err != nil {
			return st, nil, 0, err
		}
		st.Trials = append(st.Trials, tr)
		if v != verdictFail || ctx.Err() != nil {
			break
		}
	}
	if len(st.Trials) == 2 && v == verdictUnjudged {
		// A failure stands unless its confirmation passes.
		v = verdictFail
	}
	lastTrial := st.Trials[len(st.Trials)-1]
	st.Pass = v == verdictPass
	switch v {
	case verdictFail:
		st.Failed = lastTrial.Failed
		if lastTrial.Unjudged != "" {
			// The confirmation could not be judged: the first trial's
			// failure stands.
			st.Failed = append(slices.Clip(st.Trials[0].Failed), "confirmation not judged: "+lastTrial.Unjudged)
		}
	case verdictUnjudged:
		st.Unjudged = lastTrial.Unjudged
	}
	if res.Saturation != nil {
		st.Saturated = res.Saturation.Saturated
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, nil, 0, fmt.Errorf("%w: output directory: %w", ErrSetup, err)
	}
	if err := reports.WriteFile(filepath.Join(dir, ResultFile), res); err != nil {
		return st, nil, 0, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	return st, res, v, nil
}

// trial plays sc into run-K directories under dir until the runs, merged,
// give every objective its samples, a failure shows, or a judgement would
// need more than MaxRuns runs. runs numbers the step's runs across its
// trials; run K plays with the scenario's seed plus K-1, so that every run
// of a step draws its own arrivals.
func (f *finder) trial(ctx context.Context, n int, sc *scenario.Scenario, dir string, runs *int) (reports.FindMaxTrial, *reports.Result, verdict, error) {
	var (
		tr     reports.FindMaxTrial
		played []*reports.Result
	)
	for {
		*runs++
		k := *runs
		rsc := sc.Clone()
		rsc.Seed = sc.Seed + uint64(k-1)
		rdir := filepath.Join(dir, fmt.Sprintf("run-%d", k))
		res, err := f.play(ctx, rsc, rdir, fmt.Sprintf("s%dr%d-", n, k))
		if err != nil {
			return tr, nil, 0, fmt.Errorf("run %d: %w", k, err)
		}
		played = append(played, res)
		tr.Runs = append(tr.Runs, rdir)
		merged, err := mergeRuns(sc, played)
		if err != nil {
			return tr, nil, 0, fmt.Errorf("merging runs 1-%d: %w", len(played), err)
		}
		v, failed, short, more := judgeTrial(merged, len(played), f.opts.MaxRuns)
		if more && ctx.Err() == nil {
			fmt.Fprintf(f.out, "find-max step %d: %s: playing run %d\n", n, short, *runs+1)
			continue
		}
		if more {
			v = verdictUnjudged
		}
		tr.Pass, tr.Failed = v == verdictPass, failed
		if v == verdictUnjudged {
			tr.Unjudged = short
		}
		return tr, merged, v, nil
	}
}

// judgeTrial judges runs merged into res. A failure is final: the run was
// invalid, or an objective judged on enough data was not met. Otherwise an
// objective with too few samples asks for more runs (more) when MaxRuns can
// bring them at the rate the runs so far did, and leaves the trial
// unjudged when it cannot. short says which objective lacks what.
func judgeTrial(res *reports.Result, runs, maxRuns int) (v verdict, failed []string, short string, more bool) {
	for _, why := range res.InvalidReasons {
		failed = append(failed, "invalid: "+why)
	}
	need := 0
	for _, ob := range res.Objectives {
		switch {
		case ob.Insufficient != "":
			k := math.MaxInt
			if ob.Samples > 0 && ob.MinSamples > 0 {
				k = int(math.Ceil(float64(ob.MinSamples) * float64(runs) / float64(ob.Samples)))
			}
			if k > need {
				need = k
				short = fmt.Sprintf("%s after %s: %s", ob.Expression, plural(runs, "run"), ob.Insufficient)
				if k != math.MaxInt {
					short += fmt.Sprintf("; about %s needed", plural(k, "run"))
				}
			}
		case !ob.Pass:
			failed = append(failed, fmt.Sprintf("%s (measured %s)", ob.Expression, reports.FormatValue(ob.Value, ob.Unit)))
		}
	}
	switch {
	case !res.Valid || len(failed) > 0:
		return verdictFail, failed, short, false
	case need == 0:
		return verdictPass, nil, "", false
	case need <= maxRuns:
		return 0, nil, short, true
	}
	if need != math.MaxInt {
		short += fmt.Sprintf(", more than the %d a trial may play", maxRuns)
	}
	return verdictUnjudged, nil, short, false
}

// mergeRuns merges runs of sc played one after another into one result
// (reports.MergeInTurn) and evaluates sc's objectives on it.
func mergeRuns(sc *scenario.Scenario, runs []*reports.Result) (*reports.Result, error) {
	if len(runs) == 1 {
		return runs[0], nil
	}
	m, err := reports.MergeInTurn(runs...)
	if err != nil {
		return nil, err
	}
	m.Objectives = Evaluate(sc, m)
	return m, nil
}

// kneeSide is the side that saturated its CPUs at the knee: in the step
// of the lowest load that failed (fm.Failed); "" when none failed or that
// step was not measured.
func kneeSide(fm *reports.FindMax) string {
	if fm.Failed == 0 {
		return ""
	}
	for _, st := range fm.Steps {
		if st.Load == fm.Failed && !st.Pass && st.Unjudged == "" {
			return st.Saturated
		}
	}
	return ""
}

// stepVerdict says what came of a step, for the progress and the summary:
// "pass", "pass (3 runs merged)", "FAIL, confirmed: [...]", "pass: failure
// not confirmed [...]", "too few samples: ...".
func stepVerdict(st reports.FindMaxStep) string {
	runs := 0
	for _, t := range st.Trials {
		runs += len(t.Runs)
	}
	merged := ""
	if len(st.Trials) > 0 && len(st.Trials[len(st.Trials)-1].Runs) > 1 {
		merged = fmt.Sprintf(" (%d runs merged)", len(st.Trials[len(st.Trials)-1].Runs))
	}
	cpu := ""
	if st.Saturated != "" {
		cpu = " (CPUs full: " + st.Saturated + ")"
	}
	return stepOutcome(st, runs, merged) + cpu
}

// stepOutcome is stepVerdict without the saturation.
func stepOutcome(st reports.FindMaxStep, runs int, merged string) string {
	switch {
	case st.Unjudged != "":
		return "no verdict, too few samples: " + st.Unjudged
	case st.Pass && len(st.Trials) > 1:
		return fmt.Sprintf("pass%s: the first trial's failure %q was not confirmed", merged, st.Trials[0].Failed)
	case st.Pass:
		return "pass" + merged
	case len(st.Trials) > 1:
		return fmt.Sprintf("FAIL, confirmed by a second trial (%d runs in all): %q", runs, st.Failed)
	}
	return fmt.Sprintf("FAIL %q", st.Failed)
}

// plural says n things: "1 run", "3 runs".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
