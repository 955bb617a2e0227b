package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/runner"
	"github.com/swarmdesk/swarmdesk/bench/sim"
)

const simExamples = `
examples:
  bench sim                                 the smoke scenario in virtual time
  bench sim peak-hour --customers 1000000   a million sessions of the peak hour
  bench sim ./my.yaml --seed 7 --out results/sim
  bench sim peak-hour --sweep 'agents.groups[0].max_chats=1..8'
                                            one simulation per value, and a table

Latencies are in simulated time; messages take no time in transit, so only
human-scale metrics (queue_wait, first_reply, agent_reply, agent concurrency)
and the message accounting mean something. Exit status as for bench run.
`

// simCmd is "bench sim".
func simCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newCommand("sim", simExamples, stderr)
	var opts sim.Options
	fs.StringVar(&opts.OutDir, "out", "", "output directory for result.json and .hlog files (default results/sim-<scenario>-<UTC time>)")
	fs.DurationVar(&opts.Grace, "grace", time.Hour, "simulated time after the scenario's end to wait for sessions in progress")
	sweep := fs.String("sweep", "", "simulate once per value of a scenario field: PATH=FROM..TO[:STEP], e.g. agents.groups[0].max_chats=1..20")
	overrides := overrideFlags(fs, false)
	name, help, err := parseScenario(fs, args, runner.DefaultScenario)
	if help || err != nil {
		return exitParse(err)
	}
	opts.Scenario = name
	opts.Overrides = overrides()
	opts.Progress = stderr
	if opts.OutDir == "" {
		name = filepath.Base(name)
		name = name[:len(name)-len(filepath.Ext(name))]
		opts.OutDir = filepath.Join("results", "sim-"+name+"-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *sweep != "" {
		sw, err := sim.ParseSweep(*sweep)
		if err != nil {
			return 2, err
		}
		pts, err := sim.RunSweep(ctx, opts, sw)
		if len(pts) > 0 {
			fmt.Fprintf(stdout, "\n")
			if terr := sim.SweepTable(stdout, sw.Path, pts); terr != nil && err == nil {
				err = terr
			}
			fmt.Fprintf(stdout, "\neach point's result is in %s/NNN/; the summary in %s\n", opts.OutDir, filepath.Join(opts.OutDir, sim.SweepFile))
		}
		if err != nil {
			return 2, err
		}
		return 0, nil
	}
	res, err := sim.Run(ctx, opts)
	if res != nil {
		if serr := runner.Summary(stdout, res); serr != nil && err == nil {
			err = serr
		}
		if s := res.Sim; s != nil {
			fmt.Fprintf(stdout, "simulated %.0fs in %.2fs wall: %d events (%.2fM/s), %d sessions (%.0f/s), peak %d links\n",
				s.SimulatedS, s.WallS, s.Events, s.EventsPerS/1e6, s.Sessions, s.SessionsPerS, s.PeakLinks)
		}
	}
	if err != nil {
		return 2, err
	}
	if !runner.Passed(res) {
		return 1, errors.New("sim: " + failure(res))
	}
	return 0, nil
}
