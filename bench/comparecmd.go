package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/reports"
	"github.com/swarmdesk/swarmdesk/reports/compare"
)

const compareUsage = `usage: bench compare BASE NEW [flags]

Compares the results of NEW with those of BASE, metric by metric, and says
which changes are beyond noise: the median of each side with its 95%
confidence interval, and a Mann–Whitney U test at --alpha, as benchstat
judges. BASE and NEW are each a result file, a run directory, or a
directory of repeated runs (run-1/result.json, ...). A verdict needs at
least 4 runs a side, each run one sample; with fewer, the verdict is
inconclusive (unless a count such as lost messages regressed), and the
runs' one-second intervals only suggest what changed. A significant change
smaller than the metric's threshold (--min-change, or
--threshold/--thresholds per metric), or than --min-abs, is reported and
not failed. A bench sim result is not compared with a bench run result
unless --allow-mixed; different transports or machines are compared, and
said first.

Exit status: 0 no regression, 1 a regression, 2 inconclusive (too few
runs), bad usage or unreadable results.

flags:
`

const compareExamples = `
examples:
  bench compare results/base results/new
  bench compare baseline/ci results/ci --threshold delivery.p99=10% --md summary.md
  bench compare a/result.json b/result.json --format json
`

// compareCmd is "bench compare".
func compareCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, compareUsage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, compareExamples)
	}
	opt := compare.DefaultOptions()
	format := fs.String("format", "md", "what to print: md or json")
	mdOut := fs.String("md", "", "also write the Markdown verdict to this file")
	jsonOut := fs.String("json", "", "also write the JSON verdict to this file")
	thresholds := fs.StringArray("threshold", nil, "a metric's minimum relevant change, METRIC=PERCENT (delivery.p99=10%); repeatable")
	thresholdFile := fs.String("thresholds", "", "a file of METRIC=PERCENT lines")
	minChange := fs.String("min-change", "5%", "the minimum relevant change of metrics without a threshold of their own")
	minAbs := fs.Duration("min-abs", time.Duration(opt.MinAbsMs*float64(time.Millisecond)), "the smallest absolute latency change that can fail (0 for none)")
	fs.Float64Var(&opt.Alpha, "alpha", opt.Alpha, "significance level of the Mann–Whitney U test")
	fs.BoolVar(&opt.AllowMixed, "allow-mixed", false, "compare a bench sim result with a bench run result (to check the simulator, not a build)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0, nil
		}
		return 2, err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2, fmt.Errorf("compare: want BASE and NEW, got %d arguments", fs.NArg())
	}
	if *format != "md" && *format != "json" {
		return 2, fmt.Errorf("compare: --format %q: want md or json", *format)
	}
	_, v, err := compare.ParseThreshold("min-change=" + *minChange)
	if err != nil {
		return 2, fmt.Errorf("compare: --min-change: %w", err)
	}
	opt.MinChange = v
	opt.MinAbsMs = float64(*minAbs) / float64(time.Millisecond)
	opt.Thresholds = map[string]float64{}
	if *thresholdFile != "" {
		m, err := compare.LoadThresholds(*thresholdFile)
		if err != nil {
			return 2, fmt.Errorf("compare: %w", err)
		}
		maps.Copy(opt.Thresholds, m)
	}
	for _, s := range *thresholds {
		k, v, err := compare.ParseThreshold(s)
		if err != nil {
			return 2, fmt.Errorf("compare: --threshold: %w", err)
		}
		opt.Thresholds[k] = v
	}

	base, err := compare.Load(fs.Arg(0))
	if err != nil {
		return 2, fmt.Errorf("compare: base: %w", err)
	}
	next, err := compare.Load(fs.Arg(1))
	if err != nil {
		return 2, fmt.Errorf("compare: new: %w", err)
	}
	rep, err := compare.Compare(base, next, opt)
	if errors.Is(err, compare.ErrMixed) {
		return 2, fmt.Errorf("%w (--allow-mixed compares them anyway)", err)
	}
	if err != nil {
		return 2, fmt.Errorf("compare: %w", err)
	}
	print := rep.Markdown
	if *format == "json" {
		print = rep.JSON
	}
	if err := print(stdout); err != nil {
		return 2, fmt.Errorf("compare: %w", err)
	}
	for _, o := range []struct {
		path  string
		write func(io.Writer) error
	}{{*mdOut, rep.Markdown}, {*jsonOut, rep.JSON}} {
		if o.path == "" {
			continue
		}
		if err := reports.WriteAtomic(o.path, o.write); err != nil {
			return 2, fmt.Errorf("compare: write %s: %w", o.path, err)
		}
	}
	// Said on stderr too: the verdict on stdout often goes to a file.
	for _, m := range rep.Mixed {
		fmt.Fprintf(stderr, "bench compare: warning: %s\n", m)
	}
	switch rep.Verdict {
	case compare.VerdictRegression:
		return 1, fmt.Errorf("compare: %d regression(s) beyond noise", rep.Regressions)
	case compare.VerdictInconclusive:
		// Not 0: a gate that ran too few runs must not pass as if it had
		// found no regression.
		return 2, fmt.Errorf("compare: inconclusive: %s", rep.Reason)
	}
	return 0, nil
}
