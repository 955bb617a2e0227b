package sim

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/runner"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/refserver/desk"
	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/reports"
)

// Epoch is the virtual time at which every simulation starts, so that the
// same scenario and seed give the same result document.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure a simulation.
type Options struct {
	// Scenario is an embedded scenario's name or a scenario file's path.
	Scenario string
	// Overrides change the scenario's common fields.
	Overrides scenario.Overrides
	// OutDir is where result.json and the .hlog files go; "" writes
	// nothing.
	OutDir string
	// Progress receives a progress line a second of wall time; nil
	// discards them.
	Progress io.Writer
	// Grace bounds how long, in simulated time after the scenario's end,
	// the simulation waits for sessions still in progress. Default 1h.
	Grace time.Duration
	// TotalsOnly leaves out the time series: the result has one point for
	// the whole run instead of one per recording interval, OutDir gets the
	// result document without the interval logs, and nothing else
	// changes. Encoding each interval's histograms is half the CPU time
	// of a long simulation (peak-hour: 4.4s against 8.4s), which a caller
	// that reads only the totals (bench plan, a sweep) need not pay.
	TotalsOnly bool
}

// Errors classify why Run failed, as runner's do; bench maps both to exit
// status 2.
var (
	// ErrScenario means the scenario could not be loaded or is invalid.
	ErrScenario = runner.ErrScenario
	// ErrSetup means the simulation could not be set up or its output
	// written.
	ErrSetup = runner.ErrSetup
)

// ResultFile is the name of the result document in Options.OutDir.
const ResultFile = runner.ResultFile

// Run simulates the scenario opts names and returns its result, written to
// opts.OutDir when set. A result that fails its objectives is not an error.
// Cancelling ctx stops the simulation early; the result is then invalid.
func Run(ctx context.Context, opts Options) (*reports.Result, error) {
	name := opts.Scenario
	if name == "" {
		name = runner.DefaultScenario
	}
	sc, err := scenario.LoadWith(name, opts.Overrides)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	return Simulate(ctx, sc, opts)
}

// Simulate runs sc as Run does, for a scenario already loaded.
func Simulate(ctx context.Context, sc *scenario.Scenario, opts Options) (*reports.Result, error) {
	out := opts.Progress
	if out == nil {
		out = io.Discard
	}
	corpus, err := sc.Corpus()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrScenario, sc.Name, err)
	}
	desks := map[string]*desk.Desk{}
	for _, t := range sc.Tenants {
		cfg := sc.TenantConfig(t.ID)
		if cfg == nil {
			return nil, fmt.Errorf("%w: %s: tenant %q: bench sim needs the tenant's configuration (a tenant file, or the demo)", ErrScenario, sc.Name, t.ID)
		}
		rt, err := tenant.Build(*cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: tenant %q: %w", ErrScenario, sc.Name, t.ID, err)
		}
		d, err := desk.New(rt, store.NewMem(0))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: tenant %q: %w", ErrSetup, sc.Name, t.ID, err)
		}
		desks[t.ID] = d
	}

	start := Epoch
	clk := NewClock(start)
	net := NewNet(clk, desks)
	cfg := record.DefaultConfig()
	if !opts.TotalsOnly {
		cfg.Dir = opts.OutDir
	}
	cfg.Interval = interval(time.Duration(sc.Duration))
	if opts.OutDir != "" {
		if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
			return nil, fmt.Errorf("%w: output directory: %w", ErrSetup, err)
		}
	}
	rec, err := record.New(cfg, start)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = rec.Close(clk.Now())
		}
	}()
	env := &behavior.Env{
		Sched: clk, Dial: net, Rec: rec.NewShard(), Ledger: rec.Ledger(),
		Rand: rand.New(rand.NewPCG(sc.Seed, 10)), Scenario: sc, Corpus: corpus,
		Tenant: sc.CustomerTenant(), Timescale: 1,
	}
	arr := &behavior.Arrivals{Env: env}
	lanes := []behavior.Lane{{Arrivals: arr, Do: func(fn func()) { fn() }}}
	agents, planned := behavior.Populate(sc, start, lanes)

	// The desks' timed work every second, and the recorder's intervals.
	var tick func()
	tick = func() {
		net.Tick()
		clk.Call(clk.Now().Add(time.Second), tick)
	}
	clk.Call(start.Add(time.Second), tick)

	end := start.Add(time.Duration(sc.Duration))
	grace := opts.Grace
	if grace <= 0 {
		grace = time.Hour
	}
	limit := end.Add(grace)
	fmt.Fprintf(out, "simulating %s: %d agents, about %d customers over %v of simulated time\n", sc.Name, agents, planned, time.Duration(sc.Duration))
	if sc.Broadcast.Enabled() {
		fmt.Fprintf(out, "note: admin broadcasts are not simulated (they measure the network, which bench sim does not)\n")
	}
	if len(sc.Storms) > 0 {
		fmt.Fprintf(out, "note: storms are not simulated yet; %d skipped\n", len(sc.Storms))
	}

	wallStart := time.Now()
	cpu0, _, _ := child.ProcUsage(os.Getpid())
	lastProgress := wallStart
	var (
		peakLinks   int64
		peakPending int
		interrupted bool
		timedOut    bool
	)
	nextCut := start.Add(cfg.Interval)
	for {
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		// Run to the next interval boundary in slices of events, so that
		// progress, cancellation and the peaks are looked at often.
		target := nextCut
		if done := clk.Run(target, 1<<16); done {
			if !opts.TotalsOnly {
				if _, err := rec.Tick(clk.Now()); err != nil {
					return nil, fmt.Errorf("%w: recording: %w", ErrSetup, err)
				}
			}
			nextCut = nextCut.Add(cfg.Interval)
		}
		peakLinks = max(peakLinks, net.Open())
		peakPending = max(peakPending, clk.Pending())
		now := clk.Now()
		if !now.Before(end) && arr.Settled() {
			break
		}
		if now.After(limit) {
			timedOut = true
			break
		}
		if w := time.Now(); w.Sub(lastProgress) >= time.Second {
			lastProgress = w
			started, finished := arr.Counts()
			el := w.Sub(wallStart).Seconds()
			fmt.Fprintf(out, "%6.1fs  simulated %v  events %d (%.2fM/s)  sessions started %d finished %d  links %d\n",
				el, now.Sub(start).Round(time.Second), clk.Events(), float64(clk.Events())/el/1e6, started, finished, net.Open())
		}
	}
	wall := time.Since(wallStart)
	stop := clk.Now()
	closed = true
	if err := rec.Close(stop); err != nil {
		return nil, fmt.Errorf("%w: recording: %w", ErrSetup, err)
	}
	file := sc.File()
	if file == "" {
		file = "embedded:" + sc.Name
	}
	res, err := rec.Result(reports.Run{
		Tool: "swarmdesk bench sim", Scenario: sc.Name, ScenarioFile: file, Seed: sc.Seed,
		Shard: reports.ShardIndex{Index: 0, Count: 1}, Target: "desk core, virtual time",
	})
	if err != nil {
		return nil, fmt.Errorf("%w: result: %w", ErrSetup, err)
	}
	// The document's times are the wall clock's; the virtual time covered
	// is ScenarioS (and Sim.SimulatedS).
	res.Start = wallStart.UTC()
	res.End = res.Start.Add(wall)
	res.DurationS = wall.Seconds()
	started, _ := arr.Counts()
	if interrupted {
		res.Invalidate(fmt.Sprintf("interrupted after %v of simulated time: %v", stop.Sub(start), context.Cause(ctx)))
	}
	if timedOut {
		res.Invalidate(fmt.Sprintf("sessions still in progress %v after the scenario's end", grace))
	}
	cpu, _, _ := child.ProcUsage(os.Getpid())
	res.Generator = reports.Resources{Source: "self", CPUSeconds: (cpu - cpu0).Seconds(), PeakRSSBytes: peakRSS(), Connections: peakLinks}
	res.Server = reports.Resources{Source: "none: the desk core runs in the simulator"}
	res.Sim = &reports.Sim{
		SimulatedS: stop.Sub(start).Seconds(), WallS: wall.Seconds(), Events: clk.Events(),
		EventsPerS: float64(clk.Events()) / wall.Seconds(), Sessions: int64(started),
		SessionsPerS: float64(started) / wall.Seconds(), PeakLinks: peakLinks, PeakPending: peakPending,
	}
	res.Objectives = runner.Evaluate(sc, res)
	if opts.OutDir != "" {
		if err := reports.WriteFile(filepath.Join(opts.OutDir, ResultFile), res); err != nil {
			return res, fmt.Errorf("%w: %w", ErrSetup, err)
		}
	}
	return res, nil
}

// interval is the recording interval for a run of duration d: a second, or
// longer so that a long run has at most about 600 intervals.
func interval(d time.Duration) time.Duration {
	return max(time.Second, (d / 600).Round(time.Second))
}

// peakRSS returns this process's peak resident set, 0 if unknown.
func peakRSS() int64 {
	rss, err := child.PeakRSS(os.Getpid())
	if err != nil {
		return 0
	}
	return rss
}
