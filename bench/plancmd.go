package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/plan"
	"github.com/swarmdesk/swarmdesk/bench/progress"
	"github.com/swarmdesk/swarmdesk/reports"
)

const planExamples = `
examples:
  bench plan peak-hour                                 agents, chats per agent, from the scenario
  bench plan peak-hour --answer 80%/20s --reply-p90 60s --chats 1..20
  bench plan peak-hour --capacity results/fm/result.json --headroom 30%
                                                       and server nodes, from a --find-max result

The scenario is the forecast (arrivals, deflection, message rates, typing
and handle times, as behaviour). For each concurrency, bench sim finds the
fewest agents meeting the answer objective, every staffing played with
--seeds seeds (the mean decides; the spread says how sure it is), never
more agents than a lower concurrency needs unless measured and said. The
recommended concurrency is the lowest meeting both objectives whose
staffing is within the spread of the fewest. Server nodes need --capacity.
`

// planCmd is "bench plan".
func planCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newCommand("plan", planExamples, stderr)
	var (
		opts     plan.Options
		answer   string
		chats    string
		capacity string
		headroom string
		out      string
	)
	fs.StringVar(&answer, "answer", "80%/20s", "answer objective: SHARE/WITHIN of customers asking for a person assigned in time")
	fs.DurationVar(&opts.Objectives.ReplyP90, "reply-p90", 60*time.Second, "agent reply latency p90 objective")
	fs.StringVar(&chats, "chats", "1,2,3,4,5,6,8,10,12,15,20", "concurrencies to try: a list (1,2,4) or a range (1..20)")
	fs.IntVar(&opts.Seeds, "seeds", 3, "seeds each staffing is simulated with, from the scenario's: the spread over them is the plan's confidence")
	fs.IntVar(&opts.MaxAgents, "max-agents", 0, "most agents the search tries (default 20 times the scenario's)")
	fs.StringVar(&capacity, "capacity", "", "a bench run --find-max result.json: one node's capacity, for the node count")
	fs.StringVar(&headroom, "headroom", "30%", "share of a node's capacity kept free")
	fs.StringVar(&out, "out", "", "also write the plan as JSON to this file")
	overrides := overrideFlags(fs, false)
	name, help, err := parseScenario(fs, args, "peak-hour")
	if help || err != nil {
		return exitParse(err)
	}
	opts.Scenario = name
	opts.Overrides = overrides()
	if opts.Objectives.AnswerShare, opts.Objectives.AnswerWithin, err = parseAnswer(answer); err != nil {
		return 2, err
	}
	if opts.Concurrency, err = parseChats(chats); err != nil {
		return 2, err
	}
	if opts.Headroom, err = parsePercent(headroom); err != nil {
		return 2, fmt.Errorf("plan: --headroom: %w", err)
	}
	if capacity != "" {
		if opts.Capacity, err = reports.ReadFile(capacity); err != nil {
			return 2, fmt.Errorf("plan: --capacity: %w", err)
		}
	}
	if opts.Seeds < 1 {
		return 2, fmt.Errorf("plan: --seeds %d: want at least 1", opts.Seeds)
	}
	opts.Progress = progress.New(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := plan.Make(ctx, opts)
	if err != nil {
		return 2, err
	}
	if err := plan.Write(stdout, p); err != nil {
		return 2, err
	}
	if out != "" {
		b, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return 2, fmt.Errorf("plan: %w", err)
		}
		if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
			return 2, fmt.Errorf("plan: %w", err)
		}
	}
	if p.Chats == 0 {
		return 1, errors.New("plan: no concurrency tried meets the objectives")
	}
	return 0, nil
}

// parseAnswer parses SHARE/WITHIN, e.g. 80%/20s.
func parseAnswer(s string) (float64, time.Duration, error) {
	share, within, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("plan: --answer %q: want SHARE/WITHIN, e.g. 80%%/20s", s)
	}
	f, err := parsePercent(share)
	if err != nil {
		return 0, 0, fmt.Errorf("plan: --answer %q: %w", s, err)
	}
	d, err := time.ParseDuration(within)
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("plan: --answer %q: %q is not a duration above 0", s, within)
	}
	return f, d, nil
}

// parsePercent parses "80%" (or "0.8") as 0.8, in (0, 1].
func parsePercent(s string) (float64, error) {
	s = strings.TrimSpace(s)
	div := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, div = t, 100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f/div <= 0 || f/div > 1 {
		return 0, fmt.Errorf("%q: want a share such as 80%%", s)
	}
	return f / div, nil
}

// parseChats parses a list ("1,2,4") or a range ("1..20") of concurrencies.
func parseChats(s string) ([]int, error) {
	if from, to, ok := strings.Cut(s, ".."); ok {
		a, err1 := strconv.Atoi(strings.TrimSpace(from))
		b, err2 := strconv.Atoi(strings.TrimSpace(to))
		if err1 != nil || err2 != nil || a < 1 || b < a || b > 200 {
			return nil, fmt.Errorf("plan: --chats %q: want a range FROM..TO within 1..200", s)
		}
		var out []int
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
		return out, nil
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 || c > 200 {
			return nil, fmt.Errorf("plan: --chats %q: %q is not a concurrency within 1..200", s, f)
		}
		out = append(out, c)
	}
	return out, nil
}
