// Command bench drives a chat server with simulated customers and agents and
// measures it honestly (DESIGN.md §5).
//
//	go run ./bench run                       # the smoke scenario against an embedded refserver
//	go run ./bench run peak-hour --rate 5    # an embedded scenario, with an override
//	go run ./bench run my.yaml --target host:7400 --out results/mine
//
// Exit status: 0 every objective met, 1 an objective failed or the run is
// invalid, 2 bad usage, bad scenario or setup failure.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/runner"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/reports"
)

const usage = `usage: bench <command> [arguments]

commands:
  run [scenario]   play a scenario (name or file; default smoke) on real connections
  sim [scenario]   play a scenario in virtual time against the desk core
  plan [scenario]  agents, chats per agent and server nodes for a forecast
  report RESULT... render results as an HTML page with charts, or Markdown
  compare BASE NEW compare results; exit 1 on a regression, 2 if inconclusive
  conform          check a server against the protocol (PROTOCOL.md) before benchmarking it
  merge            merge the shards of a split run        (not implemented yet)

Run "bench <command> --help" for flags and examples.
`

const runExamples = `
examples:
  bench run                                 smoke scenario against an embedded refserver
  bench run peak-hour --duration 2m         an embedded scenario, shortened
  bench run ./my.yaml --rate 3 --agents 20  a scenario file, with overrides
  bench run --target 10.0.0.5:7400 --server-metrics http://10.0.0.5:7401/metrics
                                            drive any server that speaks the protocol
  bench run --transport netstd              the embedded refserver on a goroutine per connection
  bench run --transport poll --poll-interval 1s
                                            ... over HTTP, short polling every second
  bench run --target http://127.0.0.1:7400  a server speaking the HTTP binding, long polling
  bench run peak-hour --metrics-addr 127.0.0.1:9464
                                            watch the run live in Prometheus/Grafana
  bench run --out results/today --seed 7    choose the output directory and seed
  bench run --cpus 0-1 --server-cpus 2-3    place bench and the embedded server (default: halves of
                                            the CPUs allowed, printed as "cpus: bench 0, server 1 (of 0-1)")
  bench run peak-hour --find-max --duration 2m
                                            the highest arrival rate meeting every objective
  bench run chaos --chaos kill-server:10s   crash test: the embedded server killed with SIGKILL
                                            every 10s and restarted on its data (durability sync);
                                            clients reconnect, resume and retry; nothing may be
                                            lost, duplicated, reordered or left unacked

exit status: 0 all objectives met, 1 an objective failed or the run is invalid,
2 bad usage, bad scenario or setup failure.
`

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	code, err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		log.Print(err)
	}
	os.Exit(code)
}

// run runs bench with args and returns its exit status.
func run(args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2, nil
	}
	switch cmd := args[0]; cmd {
	case "run":
		return runCmd(args[1:], stdout, stderr)
	case "sim":
		return simCmd(args[1:], stdout, stderr)
	case "plan":
		return planCmd(args[1:], stdout, stderr)
	case "report":
		return reportCmd(args[1:], stdout, stderr)
	case "compare":
		return compareCmd(args[1:], stdout, stderr)
	case "conform":
		return conformCmd(args[1:], stdout, stderr)
	case "merge":
		// reports.Merge is built and tested, but bench run cannot split a
		// scenario into shards yet, so there is nothing to merge.
		return 2, errors.New("merge: not implemented yet: bench run has no --shard to split a run across processes")
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0, nil
	default:
		fmt.Fprint(stderr, usage)
		return 2, fmt.Errorf("unknown command %q", cmd)
	}
}

// runCmd is "bench run".
func runCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newCommand("run", runExamples, stderr)
	var opts runner.Options
	fs.StringVar(&opts.Target, "target", "", "server address: host:port or tcp://host:port (long connections), http://host:port (the protocol's HTTP binding, polling) (default: start an embedded refserver)")
	fs.StringVar(&opts.Transport, "transport", "", "the embedded refserver's design: gnet (event loops, the default), netstd (a goroutine per connection) or poll (HTTP, spoken by polling); not with --target")
	fs.DurationVar(&opts.PollInterval, "poll-interval", 0, "over HTTP: short-poll once per interval (e.g. 1s); 0 long-polls, each poll held by the server until a frame or --poll-wait")
	fs.DurationVar(&opts.PollWait, "poll-wait", 0, "over HTTP with long polling: how long the server may hold a poll (default 25s, at most 60s)")
	fs.StringVar(&opts.OutDir, "out", "", "output directory for result.json and .hlog files (default results/<scenario>-<UTC time>)")
	overrides := overrideFlags(fs, true)
	var (
		findMax bool
		fm      runner.FindMaxOptions
	)
	fs.BoolVar(&findMax, "find-max", false, "search for the highest load (customers.rate, or customers.population) that meets every objective")
	fs.Float64Var(&fm.Start, "find-max-start", 0, "first load of --find-max (default: the scenario's own)")
	fs.Float64Var(&fm.Factor, "find-max-factor", 2, "--find-max multiplies the load by this while every load passes")
	fs.Float64Var(&fm.Precision, "find-max-precision", 0.05, "--find-max stops when the best pass and the first failure are this close (relative)")
	fs.IntVar(&fm.MaxSteps, "find-max-steps", 0, "--find-max tries at most this many loads (default 16)")
	fs.IntVar(&fm.MaxRuns, "find-max-runs", 0, "--find-max merges up to this many runs of a load to judge it on enough samples (default 5)")
	fs.StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve the run's live figures in Prometheus format on this address (/metrics), and bench's Go profiles (/debug/pprof/)")
	fs.StringVar(&opts.AdminURL, "admin", "", "with --target: the server's admin base URL (http://host:port), where the scenario's broadcasts are posted")
	fs.StringVar(&opts.ServerMetrics, "server-metrics", "", "with --target: the server's Prometheus page, to sample its CPU and memory (refserver: http://ADMIN/metrics)")
	fs.DurationVar(&opts.Grace, "grace", 30*time.Second, "how long, after the scenario's end, the run waits for sessions still in progress before it is cut off as invalid (their messages in flight then count as cut off, not lost or unacked)")
	fs.DurationVar(&opts.LateBound, "late-bound", record.DefaultConfig().LateBound, "an action starting this much later than intended counts as late; over 1% late makes the run invalid")
	fs.StringVar(&opts.CPUs, "cpus", "", "CPUs bench runs on, a Linux cpulist (\"0-3,6\"); with the embedded server the default splits the CPUs bench may run on: bench the lower half (rounded down), the server the rest; with --target, bench is pinned only when this is given")
	fs.StringVar(&opts.ServerCPUs, "server-cpus", "", "CPUs the embedded server runs on, a Linux cpulist (default: the CPUs --cpus leaves, or the upper half); not with --target")
	fs.BoolVar(&opts.NoPin, "no-pin", false, "pin neither bench nor the embedded server: both run on every CPU bench may (as with one CPU)")
	var chaos, durability string
	fs.StringVar(&chaos, "chaos", "", "crash test, kill-server:EVERY: kill the embedded server with SIGKILL every EVERY (e.g. 10s), at a moment when messages are in flight (waiting up to EVERY/4, at most 2s, for one), and restart it on the same data directory and address; clients reconnect, resume and retry (not with --target; durability sync unless --durability says batch)")
	fs.StringVar(&durability, "durability", "none", "the embedded server's store: none (in memory), batch or sync (on disk, in OUT/data, emptied first); --chaos needs batch or sync and defaults to sync")
	name, help, err := parseScenario(fs, args, runner.DefaultScenario)
	if help || err != nil {
		return exitParse(err)
	}
	for _, f := range []string{"cpus", "server-cpus"} {
		if v, _ := fs.GetString(f); fs.Changed(f) && strings.TrimSpace(v) == "" {
			return 2, fmt.Errorf("run: --%s: an empty CPU list; --no-pin leaves the processes unpinned", f)
		}
	}
	if opts.ServerCPUs != "" && opts.Target != "" {
		return 2, errors.New("run: --server-cpus places the embedded server; the server at --target is not bench's to place (--cpus places bench)")
	}
	if opts.NoPin && (opts.CPUs != "" || opts.ServerCPUs != "") {
		return 2, errors.New("run: --no-pin and --cpus or --server-cpus do not go together")
	}
	if fs.Changed("durability") {
		if durability != "none" && durability != "batch" && durability != "sync" {
			return 2, fmt.Errorf("run: --durability %q: want none, batch or sync", durability)
		}
		if opts.Target != "" {
			return 2, errors.New("run: --durability sets the embedded server's store; the server at --target is yours to configure")
		}
		opts.Durability = durability
	}
	if chaos != "" {
		c, err := runner.ParseChaos(chaos)
		switch {
		case err != nil:
			return 2, fmt.Errorf("run: --chaos: %w", err)
		case opts.Target != "":
			return 2, errors.New("run: --chaos kill-server works on the embedded server only: bench kills and restarts the refserver it started, and cannot restart one at --target")
		case findMax:
			return 2, errors.New("run: --chaos and --find-max do not go together")
		case durability == "none" && fs.Changed("durability"):
			return 2, errors.New("run: --chaos with --durability none: a killed server would forget every conversation and message; use --durability sync (the default with --chaos) or batch")
		}
		opts.Chaos = c
	}
	opts.Scenario = name
	opts.Overrides = overrides()
	opts.Progress = stderr
	if findMax {
		opts.FindMax = &fm
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runner.Run(ctx, opts)
	if res != nil {
		if serr := runner.Summary(stdout, res); serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		return 2, err
	}
	if !runner.Passed(res) {
		if res.FindMax != nil {
			return 1, errors.New("run: --find-max: no load tried met every objective")
		}
		return 1, errors.New("run: " + failure(res))
	}
	return 0, nil
}

// newCommand returns the flag set of subcommand name, which takes one
// optional scenario; its usage lists the flags, then examples.
func newCommand(name, examples string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bench %s [scenario] [flags]\n\nflags:\n", name)
		fs.PrintDefaults()
		fmt.Fprint(stderr, examples)
	}
	return fs
}

// parseScenario parses a subcommand's args and returns the scenario named,
// or def without one; help reports that --help was asked.
func parseScenario(fs *pflag.FlagSet, args []string, def string) (name string, help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return "", true, nil
		}
		return "", false, err
	}
	switch fs.NArg() {
	case 0:
		return def, false, nil
	case 1:
		return fs.Arg(0), false, nil
	}
	fs.Usage()
	return "", false, fmt.Errorf("%s: one scenario at most, got %q", fs.Name(), fs.Args())
}

// exitParse is the exit status and error of a parse that ends the
// command: 0 after --help, 2 for bad usage.
func exitParse(err error) (int, error) {
	if err != nil {
		return 2, err
	}
	return 0, nil
}

// overrideFlags defines the flags over scenario fields on fs (--timescale
// only when the command plays in wall time) and returns what reads them
// after parsing: only the flags given override.
func overrideFlags(fs *pflag.FlagSet, timescale bool) func() scenario.Overrides {
	var (
		duration  time.Duration
		rate      float64
		customers int
		agents    int
		seed      uint64
		scale     float64
	)
	fs.DurationVar(&duration, "duration", 0, "scenario duration in scenario time; phases, broadcasts and storms are stretched to it")
	fs.Float64Var(&rate, "rate", 0, "base arrival rate, customers per second of scenario time")
	fs.IntVar(&customers, "customers", 0, "customers: the population, or the expected sessions of Poisson arrivals")
	fs.IntVar(&agents, "agents", 0, "total agents, shared among the pools in proportion")
	fs.Uint64Var(&seed, "seed", 0, "seed of the run's random choices")
	if timescale {
		fs.Float64Var(&scale, "timescale", 0, "scenario seconds played per wall second")
	}
	return func() scenario.Overrides {
		var o scenario.Overrides
		if fs.Changed("duration") {
			o.Duration = &duration
		}
		if fs.Changed("rate") {
			o.Rate = &rate
		}
		if fs.Changed("customers") {
			o.Customers = &customers
		}
		if fs.Changed("agents") {
			o.Agents = &agents
		}
		if fs.Changed("seed") {
			o.Seed = &seed
		}
		if timescale && fs.Changed("timescale") {
			o.Timescale = &scale
		}
		return o
	}
}

// failure says why a result did not pass.
func failure(res *reports.Result) string {
	if !res.Valid {
		return "the run is invalid"
	}
	n := 0
	for _, o := range res.Objectives {
		if !o.Pass {
			n++
		}
	}
	return fmt.Sprintf("%d of %d objectives failed", n, len(res.Objectives))
}
