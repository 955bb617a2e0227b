package runner

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"

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
type FindMaxOptions struct {
	// Start is the first load tried. 0: the scenario's own base level.
	Start float64
	// Factor multiplies the load after each pass while no load has failed
	// (and divides it after each failure while none has passed). Default 2.
	Factor float64
	// Precision is the relative gap between the best pass and the first
	// failure at which the search stops. Default 0.05.
	Precision float64
	// MaxSteps bounds the number of runs. Default 12.
	MaxSteps int
}

func (o FindMaxOptions) withDefaults() FindMaxOptions {
	if o.Factor <= 1 {
		o.Factor = 2
	}
	if o.Precision <= 0 {
		o.Precision = 0.05
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 12
	}
	return o
}

// search is the state of a find-max search: the best load that passed and
// the lowest that failed (0: none yet).
type search struct {
	opts      FindMaxOptions
	integer   bool // the load is a count (population)
	lo, hi    float64
	first     float64
	steps     int
	lastTried float64
}

// next returns the next load to try, or the reason to stop.
func (s *search) next() (float64, string) {
	if s.steps >= s.opts.MaxSteps {
		return 0, "steps"
	}
	var load float64
	switch {
	case s.steps == 0:
		load = s.first
	case s.hi == 0:
		load = s.lo * s.opts.Factor
	case s.lo == 0:
		load = s.hi / s.opts.Factor
	default:
		if (s.hi-s.lo)/s.lo <= s.opts.Precision || s.integer && s.hi-s.lo <= 1 {
			return 0, "settled"
		}
		load = (s.lo + s.hi) / 2
	}
	if s.integer {
		load = math.Round(load)
		if s.lo > 0 && s.hi > 0 {
			// Bisecting counts: stay strictly between the bounds.
			load = math.Min(math.Max(load, s.lo+1), s.hi-1)
		}
		if load < 1 || load == s.lastTried {
			return 0, "none passed"
		}
	} else if s.lo == 0 && s.hi > 0 && load < s.first/1024 {
		return 0, "none passed"
	}
	return load, ""
}

// record notes the outcome of a run at load.
func (s *search) record(load float64, pass bool) {
	s.steps++
	s.lastTried = load
	if pass {
		s.lo = math.Max(s.lo, load)
	} else if s.hi == 0 || load < s.hi {
		s.hi = load
	}
}

// findMax runs the search against addr, each step a whole run in its own
// directory under dir, with user ids of its own so that steps do not meet
// on the server. It returns the result of the highest load that passed,
// or, when none did, of the last one tried, with the search attached.
func findMax(ctx context.Context, base *scenario.Scenario, corpus *scenario.Corpus, opts Options, dir, addr, target string, srv *child.Process, out io.Writer) (*reports.Result, error) {
	fo := opts.FindMax.withDefaults()
	param := "customers.rate"
	integer := base.Customers.Arrival == scenario.ArrivalPopulation
	first := base.Customers.Rate
	if integer {
		param = "customers.population"
		first = float64(base.Customers.Population)
	}
	if fo.Start > 0 {
		first = fo.Start
	}
	if first <= 0 {
		return nil, fmt.Errorf("%w: %s: --find-max needs a load to start from: set %s or --find-max-start", ErrScenario, base.Name, param)
	}
	_, _ = swarm.RaiseLimit()
	limit, err := swarm.Limit()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	s := &search{opts: fo, integer: integer, first: first}
	fm := &reports.FindMax{Parameter: param, Precision: fo.Precision}
	var best, last *reports.Result
	for {
		load, stop := s.next()
		if stop != "" {
			fm.Stopped = stop
			break
		}
		if ctx.Err() != nil {
			fm.Stopped = "interrupted"
			break
		}
		sc := base.Clone()
		var o scenario.Overrides
		if integer {
			n := int(load)
			o.Customers = &n
		} else {
			o.Rate = &load
		}
		if err := sc.Apply(o); err != nil {
			return nil, fmt.Errorf("%w: find-max step %d: %w", ErrScenario, s.steps+1, err)
		}
		if need := sc.PeakConnections(); need > limit {
			fmt.Fprintf(out, "find-max: %s = %g needs %d connections at its peak; the open-file limit (RLIMIT_NOFILE) allows %d: stopping there\n", param, load, need, limit)
			fm.Stopped = "limit"
			break
		}
		n := s.steps + 1
		stepDir := filepath.Join(dir, fmt.Sprintf("step-%02d", n))
		fmt.Fprintf(out, "find-max step %d: %s = %g\n", n, param, load)
		res, err := play(ctx, sc, corpus, opts, stepDir, addr, target, srv, fmt.Sprintf("s%d-", n), out)
		if err != nil {
			return nil, fmt.Errorf("find-max step %d (%s = %g): %w", n, param, load, err)
		}
		pass := Passed(res)
		step := reports.FindMaxStep{Load: load, Pass: pass, Dir: stepDir}
		for _, ob := range res.Objectives {
			if !ob.Pass {
				step.Failed = append(step.Failed, fmt.Sprintf("%s (measured %g)", ob.Expression, ob.Value))
			}
		}
		for _, why := range res.InvalidReasons {
			step.Failed = append(step.Failed, "invalid: "+why)
		}
		fm.Steps = append(fm.Steps, step)
		verdict := "pass"
		if !pass {
			verdict = fmt.Sprintf("FAIL %q", step.Failed)
		}
		fmt.Fprintf(out, "find-max step %d: %s = %g: %s\n", n, param, load, verdict)
		s.record(load, pass)
		last = res
		if pass && load >= s.lo {
			best = res
		}
		if ctx.Err() != nil {
			fm.Stopped = "interrupted"
			break
		}
	}
	fm.Best, fm.Failed = s.lo, s.hi
	if best == nil {
		best = last
		if fm.Stopped == "settled" || fm.Stopped == "steps" {
			fm.Stopped = "none passed"
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: find-max: no step ran", ErrSetup)
	}
	best.FindMax = fm
	fmt.Fprintf(out, "find-max: highest %s meeting every objective: %g (lowest failing: %g; stopped: %s)\n", param, fm.Best, fm.Failed, fm.Stopped)
	if err := reports.WriteFile(filepath.Join(dir, ResultFile), best); err != nil {
		return best, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	return best, nil
}
