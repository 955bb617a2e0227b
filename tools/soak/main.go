// Command soak holds refserver under a steady load for a long time and
// judges whether its memory or goroutines grow (issue 6). `make soak` runs
// it for ten minutes from the repository root.
//
//	go run ./tools/soak                          # 10 minutes, judged after a 2-minute warm-up
//	go run ./tools/soak --duration 2m --warmup 1m  # a short check of the plumbing
//
// It builds refserver, starts it as a child process on loopback (with the
// demo tenant, closed conversations kept for --retain-closed), and plays
// the soak scenario (scenarios/soak.yaml) against it for --duration of wall
// time through bench/runner, as bench run does. Every --interval it samples
// the server: from /proc/<pid>, its resident memory, CPU time, threads and
// open file descriptors; from the admin endpoint's /metrics, the Go heap in
// use and its goal, goroutines, connections held, agents' chats and queued
// conversations. After the warm-up, it fits a least-squares line to each
// series and judges growth:
//
//   - resident memory and heap in use: the growth in ten minutes must stay
//     under 5% of the mean or 8 MiB, whichever is larger;
//   - goroutines: the maximum must stay within 2% + 10 of the median, and
//     the last minute's mean within as much of the first steady minute's;
//   - open file descriptors: the growth in ten minutes must stay under 10%
//     of the mean or 20, whichever is larger.
//
// It prints a table of the series (before the load, the steady window's
// start, end, min, max, mean and slope, after the load) and the verdicts,
// and writes DIR/soak.json (--out, default results/soak): the samples, the
// series' statistics and the verdicts, machine-readable for RESULTS.md;
// bench's own result files go to DIR/bench, its progress lines to
// DIR/progress.log, and the server's heap profiles at the start of the
// judged window and at the end of the load to DIR/heap-start.pb.gz and
// DIR/heap-end.pb.gz (go tool pprof -base heap-start.pb.gz BINARY
// heap-end.pb.gz shows what grew).
//
// Exit status: 0 no growth, and the load was held (bench's run valid and
// its objectives met); 1 growth found, or the load was not held; 2 bad
// usage, setup failure, or an interrupted soak.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/bench/runner"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/reports"
)

// Schema names the format of soak.json.
const Schema = "swarmdesk.soak/v1"

// SummaryFile is the name of the summary in the output directory.
const SummaryFile = "soak.json"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags set.
type config struct {
	scenario     string
	duration     time.Duration
	warmup       time.Duration
	interval     time.Duration
	settle       time.Duration
	out          string
	rate         float64
	retainClosed time.Duration
	lateBound    time.Duration
	serverBinary string
	profiles     bool
	thresholds   Thresholds
}

// Thresholds are the tolerances of the growth verdicts (see Rule).
type Thresholds struct {
	// Memory judges resident memory and the heap in use.
	Memory Rule `json:"memory"`
	// Goroutines judges the goroutine count.
	Goroutines Rule `json:"goroutines"`
	// FDs judges the open file descriptors.
	FDs Rule `json:"fds"`
}

// DefaultThresholds are the flags' defaults.
//
// Memory: 5% of the mean or 8 MiB in ten minutes, whichever is larger. A
// healthy Go server's memory is not flat: the heap swings up to its goal
// (twice the live heap at GOGC=100) between collections, the runtime
// returns freed pages to the kernel lazily, and the allocator takes memory
// in chunks, so the resident memory of a 30 MiB server wanders by a few MiB
// with no leak at all, which 5% (1.5 MiB) would mistake for one; the 8 MiB
// floor absorbs that. On a large server 8 MiB is lost in the noise and 5%
// of the mean takes over. At the soak's load (about 21,000 sessions in ten
// minutes), 8 MiB in ten minutes is about 400 bytes per session: less than
// any conversation, connection or customer record the server could forget
// to free, so a per-session leak does not pass.
//
// Goroutines: 2% of the median plus 10. refserver's goroutines are a fixed
// set (event loops, tickers, the admin endpoint's workers) that does not
// follow the load, so the count barely moves; the 10 absorbs the admin
// endpoint's idle workers coming and going with the scrapes, the 2% a
// server with many more. One goroutine left behind per session would pass
// it within seconds.
//
// File descriptors: 10% of the mean or 20 in ten minutes. The count follows
// the connections held, which fluctuate with the Poisson arrivals (±10 or
// so around 80 here); the least-squares slope of that noise over eight
// minutes of 10-second samples has a standard error of about 5 per ten
// minutes, so 20 is 4 of them. One socket left open in a thousand sessions
// (21 in ten minutes) fails.
var DefaultThresholds = Thresholds{
	Memory:     Rule{Kind: RuleSlope, Frac: 0.05, Floor: 8 << 20},
	Goroutines: Rule{Kind: RuleSteps, Frac: 0.02, Floor: 10},
	FDs:        Rule{Kind: RuleSlope, Frac: 0.10, Floor: 20},
}

// seriesDef is a series of the summary: how it is shown and judged.
type seriesDef struct {
	name  string
	label string
	bytes bool // shown in MiB
	rule  func(Thresholds) Rule
}

// seriesDefs are the summary's series, in the order of its table.
var seriesDefs = []seriesDef{
	{name: sRSS, label: "RSS", bytes: true, rule: func(t Thresholds) Rule { return t.Memory }},
	{name: sHeapInuse, label: "heap in use", bytes: true, rule: func(t Thresholds) Rule { return t.Memory }},
	{name: sHeapGoal, label: "heap goal", bytes: true},
	{name: sGoroutines, label: "goroutines", rule: func(t Thresholds) Rule { return t.Goroutines }},
	{name: sThreads, label: "threads"},
	{name: sFDs, label: "open fds", rule: func(t Thresholds) Rule { return t.FDs }},
	{name: sConns, label: "connections"},
	{name: sAgentChats, label: "agent chats"},
	{name: sQueued, label: "queued"},
}

// Summary is soak.json: the soak's settings, samples, statistics and
// verdicts.
type Summary struct {
	Schema   string    `json:"schema"`
	Scenario string    `json:"scenario"`
	Start    time.Time `json:"start"`
	// DurationS is the load's length in wall seconds (--duration);
	// WarmupS the part before the judged window; IntervalS the time
	// between samples.
	DurationS float64 `json:"duration_s"`
	WarmupS   float64 `json:"warmup_s"`
	IntervalS float64 `json:"interval_s"`
	// Rate is the scenario's arrival rate, customers per second of
	// scenario time, and Timescale its speed-up: Rate×Timescale customers
	// arrive per wall second.
	Rate      float64 `json:"rate"`
	Timescale float64 `json:"timescale"`
	// RetainClosedS is the server's retention of closed conversations.
	RetainClosedS float64    `json:"retain_closed_s"`
	Server        ServerInfo `json:"server"`
	Thresholds    Thresholds `json:"thresholds"`
	// Series are the statistics of each series over the steady window,
	// in the table's order.
	Series   []SeriesSummary `json:"series"`
	Verdicts []Verdict       `json:"verdicts"`
	Bench    BenchSummary    `json:"bench"`
	// Profiles are the server's heap profiles saved (--profiles): at the
	// start of the judged window and at the end of the load.
	Profiles []string `json:"profiles,omitempty"`
	// Growth reports whether a growth verdict failed.
	Growth bool `json:"growth"`
	// Pass reports whether the soak passed: no growth, the load held.
	Pass bool `json:"pass"`
	// Reasons say why the soak did not pass; empty when it did.
	Reasons  []string `json:"reasons,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	ExitCode int      `json:"exit_code"`
	Samples  []Sample `json:"samples"`
}

// ServerInfo is the server soaked.
type ServerInfo struct {
	Pid      int    `json:"pid"`
	Addr     string `json:"addr"`
	AdminURL string `json:"admin_url"`
	// CPUUtilization is the server's CPU time over the steady window's
	// wall time (1 = one core busy).
	CPUUtilization float64 `json:"cpu_utilization"`
}

// SeriesSummary is one series: its values before and after the load and
// its statistics over the steady window (absent when it has too few
// samples there).
type SeriesSummary struct {
	Name   string   `json:"name"`
	Label  string   `json:"label"`
	Unit   string   `json:"unit"`
	Rule   Rule     `json:"rule"`
	Before *float64 `json:"before,omitempty"`
	After  *float64 `json:"after,omitempty"`
	Steady *Stats   `json:"steady,omitempty"`
}

// BenchSummary is bench's run: the result directory and how it went.
type BenchSummary struct {
	Dir            string              `json:"dir"`
	Valid          bool                `json:"valid"`
	InvalidReasons []string            `json:"invalid_reasons,omitempty"`
	Objectives     []reports.Objective `json:"objectives,omitempty"`
	Sessions       reports.Sessions    `json:"sessions"`
	Messages       reports.Messages    `json:"messages"`
}

// errUsage marks a bad command line.
var errUsage = errors.New("usage")

// run runs the command with args and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "soak:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := soak(ctx, cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "soak:", err)
		return 2
	}
	return sum.ExitCode
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{thresholds: DefaultThresholds}
	fs := pflag.NewFlagSet("soak", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.scenario, "scenario", "soak", "the scenario played: an embedded scenario's name or a file")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Minute, "wall time of the load")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Minute, "wall time from the start of the load before the growth is judged (half the --duration when that is under 3m)")
	fs.DurationVar(&cfg.interval, "interval", 10*time.Second, "time between samples of the server")
	fs.DurationVar(&cfg.settle, "settle", 5*time.Second, "wait after the load before the last sample")
	fs.StringVar(&cfg.out, "out", filepath.Join("results", "soak"), "output directory: soak.json, progress.log, and bench's results in bench/")
	fs.Float64Var(&cfg.rate, "rate", 0, "customers per second of scenario time (0: the scenario's)")
	fs.DurationVar(&cfg.retainClosed, "retain-closed", time.Minute, "how long the server keeps a closed conversation (the tenant's retain_closed); keep it well inside --warmup")
	fs.DurationVar(&cfg.lateBound, "late-bound", 100*time.Millisecond, "a generator action this late counts as late; over 1% late makes bench's run invalid")
	fs.StringVar(&cfg.serverBinary, "server-binary", "", "a refserver binary to run instead of building one")
	fs.BoolVar(&cfg.profiles, "profiles", true, "save the server's heap profile at the start of the judged window and at the end of the load (heap-start.pb.gz, heap-end.pb.gz), to compare with go tool pprof -base")
	memFrac := fs.Float64("mem-growth", DefaultThresholds.Memory.Frac*100, "RSS and heap in use may grow this percent of their mean in 10 minutes, or --mem-floor, whichever is larger")
	memFloor := fs.Float64("mem-floor", DefaultThresholds.Memory.Floor/(1<<20), "RSS and heap in use may grow this many MiB in 10 minutes, or --mem-growth percent, whichever is larger")
	grFrac := fs.Float64("goroutine-slack", DefaultThresholds.Goroutines.Frac*100, "goroutines may rise this percent of their median, plus --goroutine-abs, above the median (max) and the first steady minute (last minute)")
	grAbs := fs.Float64("goroutine-abs", DefaultThresholds.Goroutines.Floor, "goroutines may rise this many, plus --goroutine-slack percent of their median")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: soak [flags]\n\nHolds refserver under the soak scenario's steady load and judges whether its memory\nor goroutines grow. Exit status: 0 no growth, 1 growth or the load not held, 2 usage or setup.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	cfg.thresholds.Memory.Frac = *memFrac / 100
	cfg.thresholds.Memory.Floor = *memFloor * (1 << 20)
	cfg.thresholds.Goroutines.Frac = *grFrac / 100
	cfg.thresholds.Goroutines.Floor = *grAbs
	if !fs.Changed("warmup") && cfg.duration-cfg.warmup < max(time.Minute, 4*cfg.interval) {
		cfg.warmup = cfg.duration / 2 // a short check of the plumbing: judge its second half
		fmt.Fprintf(stderr, "soak: --duration %v leaves too little after the default warm-up: judging after %v\n", cfg.duration, cfg.warmup)
	}
	switch {
	case cfg.interval < time.Second:
		return cfg, fmt.Errorf("%w: --interval %v: at least 1s", errUsage, cfg.interval)
	case cfg.warmup < 0:
		return cfg, fmt.Errorf("%w: --warmup %v: not negative", errUsage, cfg.warmup)
	case cfg.duration-cfg.warmup < max(time.Minute, 4*cfg.interval):
		return cfg, fmt.Errorf("%w: --duration %v less --warmup %v leaves %v to judge: at least a minute and 4 intervals", errUsage, cfg.duration, cfg.warmup, cfg.duration-cfg.warmup)
	case cfg.retainClosed <= 0:
		return cfg, fmt.Errorf("%w: --retain-closed %v: above 0", errUsage, cfg.retainClosed)
	case cfg.rate < 0:
		return cfg, fmt.Errorf("%w: --rate %v: not negative", errUsage, cfg.rate)
	case *memFrac < 0 || *memFloor < 0 || *grFrac < 0 || *grAbs < 0:
		return cfg, fmt.Errorf("%w: thresholds must not be negative", errUsage)
	}
	if cfg.retainClosed >= cfg.warmup {
		fmt.Fprintf(stderr, "soak: warning: --retain-closed %v is not inside --warmup %v: the memory of closed conversations may still be climbing when the growth is judged\n", cfg.retainClosed, cfg.warmup)
	}
	return cfg, nil
}

// soak runs one soak and returns its summary, written to cfg.out. An error
// is a setup failure or an interruption, with no verdict.
func soak(ctx context.Context, cfg config, stdout io.Writer) (*Summary, error) {
	sc, err := scenario.LoadNamed(cfg.scenario)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	scenDur := time.Duration(float64(cfg.duration) * sc.Timescale)
	ov := scenario.Overrides{Duration: &scenDur}
	if cfg.rate > 0 {
		ov.Rate = &cfg.rate
	}
	if err := sc.Apply(ov); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	for _, t := range sc.Tenants {
		if t.ID != "demo" || t.File != "" {
			return nil, fmt.Errorf("scenario %s: tenant %q: the soak runs refserver's demo tenant (with a shorter retention), not a tenant file", sc.Name, t.ID)
		}
	}
	wall := sc.WallDuration()
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	tenantFile := filepath.Join(cfg.out, "soak-tenant.yaml")
	data, err := soakTenant(cfg.retainClosed)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(tenantFile, data, 0o644); err != nil {
		return nil, fmt.Errorf("tenant file: %w", err)
	}
	progress, err := os.Create(filepath.Join(cfg.out, "progress.log"))
	if err != nil {
		return nil, fmt.Errorf("progress log: %w", err)
	}
	defer func() { _ = progress.Close() }()

	bin := cfg.serverBinary
	if bin == "" {
		if bin, err = buildServer(stdout); err != nil {
			return nil, err
		}
	}
	srv, err := child.Start(bin, "--config", tenantFile)
	if err != nil {
		return nil, fmt.Errorf("start refserver: %w", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.Stop()
		}
	}()
	smp := &sampler{pid: srv.Pid(), metricsURL: srv.AdminURL + "/metrics", client: &http.Client{Timeout: 5 * time.Second}}
	fmt.Fprintf(stdout, "refserver pid %d on %s, admin %s; retain_closed %v\n", srv.Pid(), srv.Addr, srv.AdminURL, cfg.retainClosed)
	fmt.Fprintf(stdout, "playing %s for %v (%g customers/s of scenario time at %gx: %.3g a second), judged after %v; samples every %v; bench's progress in %s\n",
		sc.Name, wall, sc.Customers.Rate, sc.Timescale, sc.Customers.Rate*sc.Timescale, cfg.warmup, cfg.interval, progress.Name())

	sum := &Summary{
		Schema: Schema, Scenario: sc.Name, Start: time.Now().UTC(),
		DurationS: wall.Seconds(), WarmupS: cfg.warmup.Seconds(), IntervalS: cfg.interval.Seconds(),
		Rate: sc.Customers.Rate, Timescale: sc.Timescale, RetainClosedS: cfg.retainClosed.Seconds(),
		Server:     ServerInfo{Pid: srv.Pid(), Addr: srv.Addr, AdminURL: srv.AdminURL},
		Thresholds: cfg.thresholds,
		Bench:      BenchSummary{Dir: filepath.Join(cfg.out, "bench")},
	}
	vals, errs := smp.sample(ctx)
	sum.Samples = append(sum.Samples, Sample{T: 0, Phase: "before", Values: vals, Errors: errs})
	printSample(stdout, sum.Samples[0])

	t0 := time.Now()
	saveProfile := func(ctx context.Context, name string) {
		path := filepath.Join(cfg.out, name)
		if err := smp.profile(ctx, srv.AdminURL+"/debug/pprof/heap", path); err != nil {
			fmt.Fprintf(stdout, "warning: heap profile: %v\n", err)
			return
		}
		sum.Profiles = append(sum.Profiles, path)
	}
	profiled := false
	var wg sync.WaitGroup // the sampler; sum.Samples and sum.Profiles are its own until wg.Wait
	done := make(chan struct{})
	wg.Go(func() {
		tick := time.NewTicker(cfg.interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case now := <-tick.C:
				t := now.Sub(t0).Seconds()
				vals, errs := smp.sample(ctx)
				s := Sample{T: t, Phase: phaseAt(t, cfg.warmup.Seconds(), wall.Seconds()), Values: vals, Errors: errs}
				sum.Samples = append(sum.Samples, s)
				printSample(stdout, s)
				if cfg.profiles && s.Phase == "steady" && !profiled {
					profiled = true
					saveProfile(ctx, "heap-start.pb.gz")
				}
			}
		}
	})
	res, runErr := runner.Run(ctx, runner.Options{
		Scenario:      cfg.scenario,
		Target:        srv.Addr,
		AdminURL:      srv.AdminURL,
		ServerMetrics: smp.metricsURL,
		Overrides:     ov,
		OutDir:        sum.Bench.Dir,
		Progress:      progress,
		LateBound:     cfg.lateBound,
	})
	close(done)
	wg.Wait()
	if runErr != nil {
		return nil, fmt.Errorf("bench run: %w", runErr)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted after %v: no verdict (bench's partial results in %s)", time.Since(t0).Round(time.Second), sum.Bench.Dir)
	}
	if cfg.profiles {
		saveProfile(ctx, "heap-end.pb.gz")
	}
	if err := runner.Summary(progress, res); err != nil {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("bench summary: %v", err))
	}
	sum.Bench.Valid, sum.Bench.InvalidReasons, sum.Bench.Objectives = res.Valid, res.InvalidReasons, res.Objectives
	sum.Bench.Sessions, sum.Bench.Messages = res.Sessions, res.Messages

	select {
	case <-time.After(cfg.settle):
	case <-ctx.Done():
		return nil, errors.New("interrupted while settling: no verdict")
	}
	vals, errs = smp.sample(ctx)
	after := Sample{T: time.Since(t0).Seconds(), Phase: "after", Values: vals, Errors: errs}
	sum.Samples = append(sum.Samples, after)
	printSample(stdout, after)
	stopped = true
	if err := srv.Stop(); err != nil {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("refserver did not stop cleanly: %v", err))
	}

	analyse(sum, runner.Passed(res))
	printReport(stdout, sum)
	if err := writeSummary(filepath.Join(cfg.out, SummaryFile), sum); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "summary: %s\n", filepath.Join(cfg.out, SummaryFile))
	return sum, nil
}

// buildServer compiles refserver into a directory of the user's cache of
// its own, so that a bench run building at the same time does not replace
// the binary under it.
func buildServer(out io.Writer) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "swarmdesk", "soak")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	fmt.Fprintf(out, "building refserver into %s ...\n", dir)
	bin, err := child.Build(dir)
	if err != nil {
		return "", fmt.Errorf("%w (run the soak from the repository)", err)
	}
	return bin, nil
}

// phaseAt names the phase of a sample taken t seconds into the load.
func phaseAt(t, warmup, wall float64) string {
	switch {
	case t < warmup:
		return "warmup"
	case t <= wall+1: // the sample due at the end, a tick late
		return "steady"
	}
	return "drain"
}

// analyse fills the summary's statistics, verdicts and outcome from its
// samples; benchPassed says whether bench's run was valid with its
// objectives met.
func analyse(sum *Summary, benchPassed bool) {
	var steady []Sample
	for _, s := range sum.Samples {
		if s.Phase == "steady" {
			steady = append(steady, s)
		}
	}
	sum.Series, sum.Verdicts = nil, nil
	for _, d := range seriesDefs {
		ss := SeriesSummary{Name: d.name, Label: d.label, Unit: "count"}
		if d.bytes {
			ss.Unit = "bytes"
		}
		if d.rule != nil {
			ss.Rule = d.rule(sum.Thresholds)
		}
		for _, s := range sum.Samples {
			if v, ok := s.Values[d.name]; ok {
				switch s.Phase {
				case "before":
					ss.Before = &v
				case "after":
					ss.After = &v
				}
			}
		}
		ps := points(steady, d.name)
		if st, err := describe(ps); err == nil {
			ss.Steady = &st
		}
		sum.Series = append(sum.Series, ss)
		sum.Verdicts = append(sum.Verdicts, judge(d.name, ss.Unit, ps, ss.Rule)...)
	}
	if cpu := points(steady, sCPU); len(cpu) >= 2 {
		first, last := cpu[0], cpu[len(cpu)-1]
		if last.T > first.T {
			sum.Server.CPUUtilization = (last.V - first.V) / (last.T - first.T)
		}
	}
	sum.Growth, sum.Reasons = false, nil
	for _, v := range sum.Verdicts {
		if !v.Pass {
			sum.Growth = true
			sum.Reasons = append(sum.Reasons, fmt.Sprintf("%s %s: %s", v.Series, v.Check, v.Detail))
		}
	}
	if !benchPassed {
		if !sum.Bench.Valid {
			sum.Reasons = append(sum.Reasons, "bench's run is invalid (the load was not held): "+strings.Join(sum.Bench.InvalidReasons, "; "))
		}
		for _, o := range sum.Bench.Objectives {
			if !o.Pass {
				sum.Reasons = append(sum.Reasons, fmt.Sprintf("bench objective failed: %s (measured %g)", o.Expression, o.Value))
			}
		}
	}
	sum.Pass = !sum.Growth && benchPassed
	sum.ExitCode = 0
	if !sum.Pass {
		sum.ExitCode = 1
	}
}

// points returns the values of series name in samples, in time order.
func points(samples []Sample, name string) []Point {
	var ps []Point
	for _, s := range samples {
		if v, ok := s.Values[name]; ok {
			ps = append(ps, Point{T: s.T, V: v})
		}
	}
	slices.SortFunc(ps, func(a, b Point) int { return cmpFloat(a.T, b.T) })
	return ps
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// printSample prints one sample as a line.
func printSample(w io.Writer, s Sample) {
	f := func(name string, bytes bool) string {
		v, ok := s.Values[name]
		switch {
		case !ok:
			return "-"
		case bytes:
			return fmt.Sprintf("%.1fMiB", v/(1<<20))
		}
		return fmt.Sprintf("%.0f", v)
	}
	line := fmt.Sprintf("%6.0fs %-7s rss %s  heap %s  goroutines %s  threads %s  fds %s  conns %s  chats %s  queued %s",
		s.T, s.Phase, f(sRSS, true), f(sHeapInuse, true), f(sGoroutines, false), f(sThreads, false), f(sFDs, false),
		f(sConns, false), f(sAgentChats, false), f(sQueued, false))
	if len(s.Errors) > 0 {
		line += "  errors: " + strings.Join(s.Errors, "; ")
	}
	fmt.Fprintln(w, line)
}

// printReport prints the series table, the verdicts and the outcome.
func printReport(w io.Writer, sum *Summary) {
	fmt.Fprintf(w, "\nsoak: %s for %v, %g customers/s at %gx; judged from %v to the end; server CPU %.1f%% of a core\n\n",
		sum.Scenario, time.Duration(sum.DurationS*float64(time.Second)), sum.Rate, sum.Timescale,
		time.Duration(sum.WarmupS*float64(time.Second)), 100*sum.Server.CPUUtilization)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "series\tbefore\tstart\tend\tmin\tmax\tmean\tslope/10m\tlimit/10m\tafter\t")
	for _, ss := range sum.Series {
		f := func(v float64) string { return formatValue(ss.Unit, v) }
		opt := func(v *float64) string {
			if v == nil {
				return "-"
			}
			return f(*v)
		}
		limit := "-"
		if ss.Rule.Kind == RuleSlope && ss.Steady != nil {
			limit = f(max(ss.Rule.Frac*ss.Steady.Mean, ss.Rule.Floor))
		}
		if ss.Steady == nil {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t%s\t%s\t\n", ss.Label, opt(ss.Before), limit, opt(ss.After))
			continue
		}
		st := ss.Steady
		slope := fmt.Sprintf("%+.1f", st.SlopePer10m)
		if ss.Unit == "bytes" {
			slope = fmt.Sprintf("%+.2f MiB", st.SlopePer10m/(1<<20))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", ss.Label, opt(ss.Before), f(st.Start), f(st.End),
			f(st.Min), f(st.Max), f(st.Mean), slope, limit, opt(ss.After))
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	for _, v := range sum.Verdicts {
		mark := "PASS"
		if !v.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %-16s %-6s %s\n", mark, v.Series, v.Check, v.Detail)
	}
	b := sum.Bench
	objPass := 0
	for _, o := range b.Objectives {
		if o.Pass {
			objPass++
		}
	}
	validity := "valid"
	if !b.Valid {
		validity = "INVALID: " + strings.Join(b.InvalidReasons, "; ")
	}
	fmt.Fprintf(w, "\nbench: %d sessions, %d messages sent, %d delivered, %d lost; objectives met %d of %d; run %s (%s)\n",
		b.Sessions.Started, b.Messages.Sent, b.Messages.Delivered, b.Messages.Lost, objPass, len(b.Objectives), validity, b.Dir)
	for _, warn := range sum.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if sum.Pass {
		fmt.Fprintln(w, "soak: PASS: no growth in memory, goroutines or file descriptors")
		return
	}
	fmt.Fprintln(w, "soak: FAIL")
	for _, r := range sum.Reasons {
		fmt.Fprintf(w, "  %s\n", r)
	}
}

// writeSummary writes sum as indented JSON to path.
func writeSummary(path string, sum *Summary) error {
	data, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
